import * as z from 'zod';
import { ZCursor, ZId, ZJsonObject, ZTimestamp } from './common.ts';

/** Erasing is for good: the caller types it out, so no stray click or retry loop does it. */
export const ZEraseAccountInput = z.strictObject({ confirm: z.literal('erase my account') });
export type TEraseAccountInput = z.infer<typeof ZEraseAccountInput>;

/** What an erasure leaves behind: when, and how many rows per table; never whose. */
export const ZErasureReceipt = z.object({
  erasureId: ZId,
  status: z.enum(['running', 'completed']),
  counts: z.record(z.string(), z.number().int().min(0)),
  batches: z.number().int().min(0),
  startedAt: ZTimestamp,
  finishedAt: ZTimestamp.nullable(),
});
export type TErasureReceipt = z.infer<typeof ZErasureReceipt>;

/** One audit row. Ids are bigints, so they travel as strings. */
export const ZAuditEntry = z.object({
  id: z.string().regex(/^\d+$/),
  actorType: z.enum(['user', 'api_key', 'anonymous', 'system']),
  actorId: z.string().nullable(),
  action: z.string(),
  subjectType: z.string().nullable(),
  subjectId: z.string().nullable(),
  details: ZJsonObject,
  requestId: z.string().nullable(),
  occurredAt: ZTimestamp,
});
export type TAuditEntry = z.infer<typeof ZAuditEntry>;

export const ZListAuditInput = z.strictObject({
  /** `own` (default): the caller's trail, their API keys' included. `all`: everyone's, administrators only. */
  scope: z.enum(['own', 'all']).optional(),
  /** An exact action (`sessions.create`) or a prefix ending in a dot (`sessions.`). */
  action: z.string().min(1).max(128).optional(),
  subjectType: z.string().min(1).max(64).optional(),
  subjectId: z.string().min(1).max(255).optional(),
  /** With scope `all`: one actor's rows. */
  actorId: z.string().min(1).max(255).optional(),
  since: ZTimestamp.optional(),
  until: ZTimestamp.optional(),
  limit: z.number().int().min(1).optional(),
  cursor: ZCursor.optional(),
});
export type TListAuditInput = z.infer<typeof ZListAuditInput>;

export const ZListAuditOutput = z.object({ items: z.array(ZAuditEntry), nextCursor: ZCursor.nullable() });
export type TListAuditOutput = z.infer<typeof ZListAuditOutput>;
