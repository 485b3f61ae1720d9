import * as z from 'zod';
import { ZId, ZTimestamp } from './common.ts';
import { ZKey, ZSession } from './sessions.ts';

/*
 * What chat users expect of a conversation beyond appending to it: forking it, restoring what was
 * deleted, rating answers, tagging and pinning sessions. Share links are in shares.ts.
 */

/**
 * A new session of the caller's holding copies of a session's visible messages, in order, with
 * new ids and seqs 1…n and `forkedFromId` naming each original:
 * - `path: 'history'` (the default): every visible message up to and including `messageId`
 *   (the whole session without one);
 * - `path: 'branch'`: only `messageId` and the messages it answers, through `parentId`, back to
 *   the root: one branch of a conversation that branched.
 * With a `clientKey`, a retried fork returns the session the first one made (`created: false`).
 */
export const ZForkSessionInput = z
  .strictObject({
    sessionId: ZId,
    messageId: ZId.optional(),
    path: z.enum(['history', 'branch']).default('history'),
    /** The new session's title; the source's by default. */
    title: z.string().max(512).optional(),
    /** Idempotency key; becomes the new session's clientKey. */
    clientKey: ZKey(255).optional(),
  })
  .refine((input) => input.path === 'history' || input.messageId !== undefined, {
    message: "path 'branch' needs the messageId of the branch's last message",
    path: ['messageId'],
  });
export type TForkSessionInput = z.infer<typeof ZForkSessionInput>;

export const ZForkSessionOutput = z.object({
  session: ZSession,
  /** Messages copied into the new session. */
  copied: z.int().min(0),
  /** false when `clientKey` found the session an earlier fork made. */
  created: z.boolean(),
});
export type TForkSessionOutput = z.infer<typeof ZForkSessionOutput>;

/** `restored` is false when the message was not deleted (a retried restore is harmless). */
export const ZRestoreMessageOutput = z.object({ restored: z.boolean() });
export type TRestoreMessageOutput = z.infer<typeof ZRestoreMessageOutput>;

export const ZUndoClearInput = z.strictObject({ clearId: ZId });
export type TUndoClearInput = z.infer<typeof ZUndoClearInput>;

/** How many of the clear's messages came back (those retention purged meanwhile cannot). */
export const ZUndoClearOutput = z.object({ restored: z.int().min(0) });
export type TUndoClearOutput = z.infer<typeof ZUndoClearOutput>;

export const RATING_VALUES = ['up', 'down'] as const;
export const ZRatingValue = z.enum(RATING_VALUES);

/** Rates a message: `value: null` removes the rating; rating again replaces it. */
export const ZRateMessageInput = z.strictObject({
  messageId: ZId,
  value: ZRatingValue.nullable(),
  /** A short machine-readable reason (`inaccurate`, `harmful`, `great`…). */
  reason: ZKey(64).optional(),
  /** Free text, bounded by maxContentBytes. */
  comment: z.string().optional(),
});
export type TRateMessageInput = z.infer<typeof ZRateMessageInput>;

export const ZRating = z.object({
  messageId: ZId,
  value: ZRatingValue,
  reason: z.string().nullable(),
  comment: z.string().nullable(),
  createdAt: ZTimestamp,
  updatedAt: ZTimestamp,
});
export type TRating = z.infer<typeof ZRating>;

export const ZRateMessageOutput = z.object({ rating: ZRating.nullable() });
export type TRateMessageOutput = z.infer<typeof ZRateMessageOutput>;

/** A tag: 1–64 characters, compared and stored lower-cased, without leading or trailing spaces. */
export const ZTag = ZKey(64);
export const MAX_TAGS_PER_SESSION = 32;

export const ZTagSessionInput = z.strictObject({
  id: ZId,
  tags: z.array(ZTag).min(1).max(MAX_TAGS_PER_SESSION),
});
export type TTagSessionInput = z.infer<typeof ZTagSessionInput>;

export const ZSessionTagsInput = z.strictObject({ limit: z.int().min(1).max(1_000).optional() }).prefault({});
export type TSessionTagsInput = z.infer<typeof ZSessionTagsInput>;

/** The caller's tags on live (not deleted) sessions, most used first. */
export const ZSessionTagsOutput = z.object({
  items: z.array(z.object({ tag: z.string(), sessions: z.int().min(1) })),
});
export type TSessionTagsOutput = z.infer<typeof ZSessionTagsOutput>;
