import * as z from 'zod';
import { ZCursor, ZId, ZJsonObject, ZMoney, ZPage, ZTimestamp } from './common.ts';

/**
 * Where a session's agent run stands: created → running → completed | failed | killed.
 * Deleting a session is not a status: it sets `deletedAt` and keeps the run status, so a
 * restored session is exactly what it was.
 */
export const SESSION_STATUSES = ['created', 'running', 'completed', 'failed', 'killed'] as const;
export const ZSessionStatus = z.enum(SESSION_STATUSES);
export type TSessionStatus = z.infer<typeof ZSessionStatus>;

/**
 * A short identifier-like string. Unlike free text, which the server sanitizes, a key must arrive
 * intact: a NUL cannot even travel to PostgreSQL, and a lone surrogate would be stored as U+FFFD,
 * a different key from the one the caller holds.
 */
export function ZKey(maxLength: number) {
  return z
    .string()
    .min(1)
    .max(maxLength)
    .refine((text) => text.isWellFormed() && !text.includes('\0'), 'must be well-formed text without NUL characters');
}

const ZTitle = z.string().max(512);
/** The caller's own key for a conversation (say, the frontend's id for it), unique per owner. */
const ZClientKey = ZKey(255);
const ZAgentId = ZKey(255);
const ZPhase = ZKey(128);
/** Long texts (problem statement, synthesis…): the server bounds them by `maxContentBytes`. */
const ZLongText = z.string();

export const ZSession = z.object({
  id: ZId,
  /** Whether a signed-in user or an anonymous visitor owns it; never who. */
  owner: z.enum(['user', 'anonymous']),
  title: z.string().nullable(),
  projectId: ZId.nullable(),
  agentId: z.string().nullable(),
  clientKey: z.string().nullable(),
  problemStatement: z.string().nullable(),
  context: ZJsonObject,
  metadata: ZJsonObject,
  status: ZSessionStatus,
  phase: z.string().nullable(),
  round: z.number().int().nonnegative(),
  totalCost: ZMoney,
  synthesis: z.string().nullable(),
  finalRecommendation: z.string().nullable(),
  error: z.string().nullable(),
  messageCount: z.number().int().nonnegative(),
  lastSeq: z.number().int().nonnegative(),
  /** Bumped by every change to the session; pass it back as `expectedVersion` to update safely. */
  version: z.number().int().positive(),
  createdAt: ZTimestamp,
  updatedAt: ZTimestamp,
  startedAt: ZTimestamp.nullable(),
  finishedAt: ZTimestamp.nullable(),
  lastProgressAt: ZTimestamp.nullable(),
  lastActivityAt: ZTimestamp,
  lastMessageAt: ZTimestamp.nullable(),
  archivedAt: ZTimestamp.nullable(),
  deletedAt: ZTimestamp.nullable(),
  /** Pinned sessions come first in sessions.list; null when not pinned. */
  pinnedAt: ZTimestamp.nullable(),
  /** The owner's labels (sessions.tag), lower-cased, sorted. */
  tags: z.array(z.string()),
  /** The message of another session of the owner's that sessions.fork copied this one up to. */
  forkedFromMessageId: ZId.nullable(),
});
export type TSession = z.infer<typeof ZSession>;

/** What a caller may say about a new session; owner, status, counters and cost are the server's. */
const newSessionFields = {
  title: ZTitle.optional(),
  /** One of the caller's own projects; anonymous visitors have none. */
  projectId: ZId.optional(),
  agentId: ZAgentId.optional(),
  problemStatement: ZLongText.optional(),
  context: ZJsonObject.optional(),
  metadata: ZJsonObject.optional(),
};

export const ZCreateSessionInput = z.strictObject({ ...newSessionFields, clientKey: ZClientKey.optional() });
export type TCreateSessionInput = z.infer<typeof ZCreateSessionInput>;

/** The other fields only apply when the session is created; an existing one is returned as it is. */
export const ZGetOrCreateSessionInput = z.strictObject({ ...newSessionFields, clientKey: ZClientKey });
export type TGetOrCreateSessionInput = z.infer<typeof ZGetOrCreateSessionInput>;

export const ZGetOrCreateSessionOutput = z.object({ session: ZSession, created: z.boolean() });
export type TGetOrCreateSessionOutput = z.infer<typeof ZGetOrCreateSessionOutput>;

/** Input of every procedure that needs nothing but the session. */
export const ZSessionIdInput = z.strictObject({ id: ZId });
export type TSessionIdInput = z.infer<typeof ZSessionIdInput>;

export const ZUpdateSessionInput = z
  .strictObject({
    id: ZId,
    /** When given, the update applies only if the session is still at this version (else CONFLICT). */
    expectedVersion: z.number().int().positive().optional(),
    /** null clears the title. */
    title: ZTitle.nullable().optional(),
    /** Replaces the whole object. */
    context: ZJsonObject.optional(),
    /** Replaces the whole object. */
    metadata: ZJsonObject.optional(),
  })
  .refine((input) => input.title !== undefined || input.context !== undefined || input.metadata !== undefined, {
    message: 'nothing to update: give title, context or metadata',
  });
export type TUpdateSessionInput = z.infer<typeof ZUpdateSessionInput>;

export const SESSION_ORDERS = ['lastActivity', 'created'] as const;
export type TSessionOrder = (typeof SESSION_ORDERS)[number];

export const ZListSessionsInput = z
  .strictObject({
    /** Newest first by last activity (the default) or by creation. */
    orderBy: z.enum(SESSION_ORDERS).default('lastActivity'),
    status: z.union([ZSessionStatus, z.array(ZSessionStatus).min(1).max(SESSION_STATUSES.length)]).optional(),
    projectId: ZId.optional(),
    /** false hides archived sessions, true shows only them; the default is false, or 'all' with `deleted`. */
    archived: z.union([z.boolean(), z.literal('all')]).optional(),
    /** true lists the bin (soft-deleted sessions) instead of the live ones. */
    deleted: z.boolean().default(false),
    /** Case-insensitive substring of the title. */
    titleContains: ZKey(512).optional(),
    /** Only sessions carrying this tag (compared lower-cased). */
    tag: ZKey(64).optional(),
    /** Page size; the server's default and maximum apply. */
    limit: z.number().int().positive().optional(),
    /** `nextCursor` of the previous page, with the same order and filters. */
    cursor: ZCursor.optional(),
  })
  .prefault({});
export type TListSessionsInput = z.infer<typeof ZListSessionsInput>;

export const ZSessionPage = ZPage(ZSession);
export type TSessionPage = z.infer<typeof ZSessionPage>;

export const ZReportProgressInput = z.strictObject({
  id: ZId,
  phase: ZPhase.optional(),
  round: z.number().int().min(0).max(2_147_483_647).optional(),
  /** Added to the session's total cost, exactly (decimal arithmetic in the database). */
  addCost: ZMoney.optional(),
});
export type TReportProgressInput = z.infer<typeof ZReportProgressInput>;

export const ZCompleteSessionInput = z.strictObject({
  id: ZId,
  synthesis: ZLongText.optional(),
  finalRecommendation: ZLongText.optional(),
});
export type TCompleteSessionInput = z.infer<typeof ZCompleteSessionInput>;

export const ZFailSessionInput = z.strictObject({ id: ZId, error: ZLongText.min(1) });
export type TFailSessionInput = z.infer<typeof ZFailSessionInput>;

export const ZPurgeSessionOutput = z.object({ id: ZId, messagesPurged: z.number().int().nonnegative() });
export type TPurgeSessionOutput = z.infer<typeof ZPurgeSessionOutput>;
