import * as z from 'zod';
import { ZCursor, ZId, ZJsonObject, ZMoney, ZTimestamp } from './common.ts';
import { ZSearchQuery } from './search.ts';
import { ZMessageContent, ZMessagePart } from './message-parts.ts';

export const MESSAGE_ROLES = ['system', 'user', 'assistant', 'tool'] as const;
export const ZMessageRole = z.enum(MESSAGE_ROLES);
export type TMessageRole = z.infer<typeof ZMessageRole>;

/** PostgreSQL's `integer`: anything larger would be refused by the database instead of here. */
const INT4_MAX = 2_147_483_647;
const ZCount = z.int().min(0).max(INT4_MAX);

/** A message's position in its session: 1, 2, 3… with no gaps. */
export const ZSeq = z.int().min(1);

/**
 * Short labels that are matched exactly (chapter, idempotency key, model, agent). Unlike content
 * they are refused rather than repaired when they hold a NUL or a lone surrogate: a repaired key
 * or chapter would silently match a different one.
 */
const ZLabel = z
  .string()
  .min(1)
  .max(255)
  .refine((s) => s.isWellFormed() && !s.includes('\0'), 'must be valid Unicode without NUL characters');

/**
 * A message as a caller writes it. Content, citations, tool calls and metadata may hold anything
 * (a NUL, a lone surrogate): the server replaces those characters with U+FFFD and marks the
 * message `sanitized`. Sizes and depths are bounded by the server's `ContentLimits`.
 */
export const ZNewMessage = z.strictObject({
  role: ZMessageRole,
  /**
   * Plain text, or the message's typed parts in order (see `ZMessagePart`). Parts are stored as
   * written and come back in `parts`, with their text parts joined into `content`.
   */
  content: ZMessageContent,
  chapter: ZLabel.nullish(),
  citations: z.array(z.unknown()).nullish(),
  toolCalls: z.array(z.unknown()).nullish(),
  metadata: ZJsonObject.nullish(),
  model: ZLabel.nullish(),
  promptTokens: ZCount.nullish(),
  completionTokens: ZCount.nullish(),
  cost: ZMoney.nullish(),
  latencyMs: ZCount.nullish(),
  /** A visible message of the same session this one answers or branches from. */
  parentId: ZId.nullish(),
  agentId: ZLabel.nullish(),
  /**
   * Idempotency key, unique per session. Repeating an append with the same key and the same
   * message returns the stored message (nothing new is written); the same key with a different
   * message, or with a message deleted since, is a CONFLICT.
   */
  clientMessageId: ZLabel.nullish(),
});
export type TNewMessage = z.infer<typeof ZNewMessage>;

export const ZMessage = z.object({
  id: ZId,
  sessionId: ZId,
  seq: ZSeq,
  role: ZMessageRole,
  content: z.string(),
  chapter: z.string().nullable(),
  citations: z.array(z.unknown()).nullable(),
  toolCalls: z.array(z.unknown()).nullable(),
  metadata: ZJsonObject,
  model: z.string().nullable(),
  promptTokens: ZCount.nullable(),
  completionTokens: ZCount.nullable(),
  cost: ZMoney.nullable(),
  latencyMs: ZCount.nullable(),
  parentId: ZId.nullable(),
  agentId: z.string().nullable(),
  clientMessageId: z.string().nullable(),
  /** Whether the server replaced NULs or lone surrogates in it with U+FFFD. */
  sanitized: z.boolean(),
  /** The message sessions.fork copied this one from, in the session it was forked from. */
  forkedFromId: ZId.nullable(),
  createdAt: ZTimestamp,
  /**
   * The message's parts in order, when it was written (or last edited) as parts; null for a
   * message written as plain text, which a parts-aware client reads as one text part, `content`.
   */
  parts: z.array(ZMessagePart).nullable(),
  /** 1 as appended; each `messages.edit` adds one (earlier versions: `messages.versions`). */
  version: z.int().min(1),
  /** Whether it was edited since it was appended (`version > 1`). */
  edited: z.boolean(),
  /** When it was last edited; null if never. */
  editedAt: ZTimestamp.nullable(),
  /** The earlier user message this one was sent as an edit of (`chat.send` with `editOf`): a branch beside it. */
  editOf: ZId.nullable(),
});
export type TMessage = z.infer<typeof ZMessage>;

export const ZAppendMessageInput = ZNewMessage.extend({ sessionId: ZId });
export type TAppendMessageInput = z.infer<typeof ZAppendMessageInput>;

/**
 * Up to `maxBatchSize` messages, stored all or nothing, in order. A message whose
 * `clientMessageId` is already stored (with the same content) comes back as stored and is not
 * written again, so a retried batch is harmless; a key repeated within one batch is refused.
 */
export const ZAppendManyMessagesInput = z.strictObject({
  sessionId: ZId,
  messages: z.array(ZNewMessage).min(1),
});
export type TAppendManyMessagesInput = z.infer<typeof ZAppendManyMessagesInput>;

/** The messages in the order they were given, each as stored. */
export const ZAppendManyMessagesOutput = z.object({ items: z.array(ZMessage) });
export type TAppendManyMessagesOutput = z.infer<typeof ZAppendManyMessagesOutput>;

/**
 * One line of a `messages.import` stream (NDJSON: one JSON object per line). A message as
 * `messages.append` takes it, with its session, and a `clientMessageId` it must have: the key is
 * what makes re-sending a stream (or a part of one) harmless.
 */
export const ZImportMessageLine = ZNewMessage.extend({ sessionId: ZId, clientMessageId: ZLabel });
export type TImportMessageLine = z.infer<typeof ZImportMessageLine>;

/** What one session got from an import: its new messages' seqs (null when all were already stored). */
export const ZImportedSession = z.object({
  sessionId: ZId,
  imported: z.int().min(0),
  unchanged: z.int().min(0),
  firstSeq: ZSeq.nullable(),
  lastSeq: ZSeq.nullable(),
});
export type TImportedSession = z.infer<typeof ZImportedSession>;

/**
 * The receipt of one import request (all or nothing): `imported` messages stored, `unchanged`
 * lines whose key was already stored with the same message (a retry), per session in id order.
 */
export const ZImportMessagesOutput = z.object({
  lines: z.int().min(0),
  imported: z.int().min(0),
  unchanged: z.int().min(0),
  sessions: z.array(ZImportedSession),
});
export type TImportMessagesOutput = z.infer<typeof ZImportMessagesOutput>;

/**
 * One page of a session's visible messages. Without `before` or `after`: the latest `limit`.
 * To scroll back, pass `before: items[0].seq`; to read on (or poll), `after: items.at(-1).seq`.
 */
export const ZMessageHistoryInput = z
  .strictObject({
    sessionId: ZId,
    /** Messages older than this seq. */
    before: ZSeq.optional(),
    /** Messages newer than this seq (0 reads from the start). */
    after: z.int().min(0).optional(),
    /** Page size: `defaultPageSize` when absent, at most `maxPageSize`. */
    limit: z.int().min(1).optional(),
    /** Only the messages of this chapter. */
    chapter: ZLabel.optional(),
  })
  .refine((input) => input.before === undefined || input.after === undefined, {
    message: 'pass before or after, not both',
    path: ['after'],
  });
export type TMessageHistoryInput = z.infer<typeof ZMessageHistoryInput>;

export const ZMessageHistory = z.object({
  /** Oldest first. */
  items: z.array(ZMessage),
  /** Whether visible messages older than this page exist. */
  hasOlder: z.boolean(),
  /** Whether visible messages newer than this page exist (at the time of the call). */
  hasNewer: z.boolean(),
});
export type TMessageHistory = z.infer<typeof ZMessageHistory>;

export const ZMessageIdInput = z.strictObject({ id: ZId });
export type TMessageIdInput = z.infer<typeof ZMessageIdInput>;

/** `deleted` is false when the message had already been deleted: retrying a delete is harmless. */
export const ZDeleteMessageOutput = z.object({ deleted: z.boolean() });
export type TDeleteMessageOutput = z.infer<typeof ZDeleteMessageOutput>;

/** Soft-deletes every visible message of the session, or of one chapter of it. */
export const ZClearMessagesInput = z.strictObject({ sessionId: ZId, chapter: ZLabel.optional() });
export type TClearMessagesInput = z.infer<typeof ZClearMessagesInput>;

/** `clearId` undoes the clear (messages.undoClear) while retention has not purged its messages; null when nothing was cleared. */
export const ZClearMessagesOutput = z.object({ cleared: z.int().min(0), clearId: ZId.nullable() });
export type TClearMessagesOutput = z.infer<typeof ZClearMessagesOutput>;

/** The path to a message through its `parentId`s, at most `limit` (default and cap: `maxPageSize`) steps long. */
export const ZMessageThreadInput = z.strictObject({ id: ZId, limit: z.int().min(1).optional() });
export type TMessageThreadInput = z.infer<typeof ZMessageThreadInput>;

export const ZMessageThread = z.object({
  /** From the root (or the oldest ancestor within `limit`) down to the message itself; deleted ancestors are left out. */
  items: z.array(ZMessage),
  /** Whether the path goes on above the first item, beyond `limit`. */
  truncated: z.boolean(),
});
export type TMessageThread = z.infer<typeof ZMessageThread>;

/**
 * Full-text search over the caller's visible messages, best match first. `query` uses the same
 * web-search syntax as knowledge and memories search: words (all must match), `"a phrase"`,
 * `OR`, `-excluded`; with `prefix`, the last word also matches words it begins (as-you-type).
 * An unsearchable query (empty, over 1,000 characters, only punctuation or exclusions) is a
 * BAD_REQUEST. Messages become searchable a few seconds after they are appended (the index is
 * filled off the write path).
 */
export const ZSearchMessagesInput = z.strictObject({
  query: ZSearchQuery,
  /** As-you-type: the last word also matches words it begins. */
  prefix: z.boolean().default(false),
  /** Only this session's messages. */
  sessionId: ZId.optional(),
  /** Only messages of sessions in this project. */
  projectId: ZId.optional(),
  role: ZMessageRole.optional(),
  chapter: ZLabel.optional(),
  /** Only messages written at or after this instant. */
  createdAfter: ZTimestamp.optional(),
  /** Only messages written before this instant. */
  createdBefore: ZTimestamp.optional(),
  /** Page size: `defaultPageSize` when absent, at most `maxPageSize`. */
  limit: z.int().min(1).optional(),
  /** `nextCursor` of the previous page, with the same query and filters. */
  cursor: ZCursor.optional(),
});
export type TSearchMessagesInput = z.infer<typeof ZSearchMessagesInput>;

export const ZMessageSearchHit = z.object({
  message: ZMessage,
  /** PostgreSQL's `ts_rank`: higher is better; hits come in descending rank, then id. */
  rank: z.number(),
  /** The best-matching fragments of the content, matches wrapped in `«` `»`. */
  snippet: z.string(),
});
export type TMessageSearchHit = z.infer<typeof ZMessageSearchHit>;

export const ZSearchMessagesOutput = z.object({ items: z.array(ZMessageSearchHit), nextCursor: ZCursor.nullable() });
export type TSearchMessagesOutput = z.infer<typeof ZSearchMessagesOutput>;

/**
 * Changes a message's content (plain text or parts) and/or its metadata, keeping the version it
 * replaces (`messages.versions`). `metadata` replaces the whole object. With `expectedVersion`,
 * the edit applies only if the message is still at that version (CONFLICT otherwise, naming the
 * current one), so two editors cannot silently overwrite each other. An answer still being
 * generated cannot be edited (CONFLICT). To ask for a new answer to an edited user message, send
 * it with `chat.send({ editOf })` instead: that keeps the old question and answer as a branch.
 */
export const ZEditMessageInput = z
  .strictObject({
    id: ZId,
    content: ZMessageContent.optional(),
    metadata: ZJsonObject.optional(),
    expectedVersion: z.int().min(1).optional(),
  })
  .refine((input) => input.content !== undefined || input.metadata !== undefined, {
    message: 'pass content, metadata or both',
    path: ['content'],
  });
export type TEditMessageInput = z.infer<typeof ZEditMessageInput>;

/** Who made a version: the same actor the audit log names (a user, an API key, an anonymous visitor). */
export const ZVersionAuthor = z.object({ actorType: z.string(), actorId: z.string() });

export const ZMessageVersion = z.object({
  version: z.int().min(1),
  content: z.string(),
  parts: z.array(ZMessagePart).nullable(),
  metadata: ZJsonObject,
  sanitized: z.boolean(),
  /** When this version was written: the append for version 1, the edit for the others. */
  createdAt: ZTimestamp,
  /** Who wrote it by editing; null for version 1 (the append; the audit log names who appended). */
  editedBy: ZVersionAuthor.nullable(),
  /** Whether this is the message's version now. */
  current: z.boolean(),
});
export type TMessageVersion = z.infer<typeof ZMessageVersion>;

/** Every version of a visible message, oldest first, the current one last. */
export const ZMessageVersionsOutput = z.object({ items: z.array(ZMessageVersion) });
export type TMessageVersionsOutput = z.infer<typeof ZMessageVersionsOutput>;
