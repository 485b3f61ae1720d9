import * as z from 'zod';
import { ZId, ZTimestamp } from './common.ts';
import { ZMessageRole, ZSeq } from './messages.ts';

/**
 * Read-only links to a session. `snapshot` shows the messages up to the session's last seq when
 * the link was made; `live` shows the conversation as it is when viewed. Either way a message the
 * owner deleted since is not shown.
 */
export const SHARE_MODES = ['snapshot', 'live'] as const;
export const ZShareMode = z.enum(SHARE_MODES);

/** The token of a share link: what `shares.create` returned, nothing else. */
export const ZShareToken = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_-]+$/, 'a share token is base64url text');

export const ZCreateShareInput = z.strictObject({
  sessionId: ZId,
  mode: ZShareMode.default('snapshot'),
  /** When the link stops working; never by default. */
  expiresAt: ZTimestamp.optional(),
});
export type TCreateShareInput = z.infer<typeof ZCreateShareInput>;

export const ZShare = z.object({
  id: ZId,
  sessionId: ZId,
  mode: ZShareMode,
  /** Snapshot links: the last seq they show. */
  upToSeq: z.int().min(0).nullable(),
  expiresAt: ZTimestamp.nullable(),
  revokedAt: ZTimestamp.nullable(),
  /** Whether the link opens now: neither revoked nor expired. */
  active: z.boolean(),
  createdAt: ZTimestamp,
});
export type TShare = z.infer<typeof ZShare>;

/** `token` is shown this once: the server keeps only its hash. */
export const ZCreateShareOutput = z.object({ share: ZShare, token: ZShareToken });
export type TCreateShareOutput = z.infer<typeof ZCreateShareOutput>;

export const ZShareIdInput = z.strictObject({ id: ZId });
export type TShareIdInput = z.infer<typeof ZShareIdInput>;

/** The caller's links, newest first; of one session with `sessionId`. */
export const ZListSharesInput = z
  .strictObject({ sessionId: ZId.optional(), limit: z.int().min(1).max(1_000).optional() })
  .prefault({});
export type TListSharesInput = z.infer<typeof ZListSharesInput>;

export const ZListSharesOutput = z.object({ items: z.array(ZShare) });
export type TListSharesOutput = z.infer<typeof ZListSharesOutput>;

/** A page of a shared conversation, after `afterSeq` (from the start without it). */
export const ZViewShareInput = z.strictObject({
  token: ZShareToken,
  afterSeq: z.int().min(0).optional(),
  limit: z.int().min(1).optional(),
});
export type TViewShareInput = z.infer<typeof ZViewShareInput>;

/** A message as a share shows it: no ids, owner, metadata or provenance, only the conversation. */
export const ZSharedMessage = z.object({
  seq: ZSeq,
  /** The seq of the message this one answers, when that one is shown too. */
  parentSeq: ZSeq.nullable(),
  role: ZMessageRole,
  content: z.string(),
  chapter: z.string().nullable(),
  model: z.string().nullable(),
  createdAt: ZTimestamp,
});
export type TSharedMessage = z.infer<typeof ZSharedMessage>;

export const ZViewShareOutput = z.object({
  title: z.string().nullable(),
  mode: ZShareMode,
  items: z.array(ZSharedMessage),
  /** Pass as `afterSeq` for the next page; null on the last. */
  nextAfterSeq: z.int().min(0).nullable(),
});
export type TViewShareOutput = z.infer<typeof ZViewShareOutput>;
