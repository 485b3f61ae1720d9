import * as z from 'zod';
import { ZCursor, ZId, ZTimestamp } from './common.ts';

/**
 * `read` allows queries, `write` allows mutations; a key needs at least one scope. `academy.award`
 * allows academy.award (XP for learners) and nothing else; only administrators can create it.
 */
export const ZApiKeyScope = z.enum(['read', 'write', 'academy.award']);
export type TApiKeyScope = z.infer<typeof ZApiKeyScope>;

export const ZCreateApiKeyInput = z.strictObject({
  name: z.string().trim().min(1).max(128),
  scopes: z
    .array(ZApiKeyScope)
    .min(1)
    .refine((scopes) => new Set(scopes).size === scopes.length, 'each scope at most once'),
  /** Without it the key is valid until revoked. */
  expiresInDays: z.number().int().min(1).max(3_650).optional(),
});
export type TCreateApiKeyInput = z.infer<typeof ZCreateApiKeyInput>;

/** A key as its owner sees it later: never the key itself, only its first characters. */
export const ZApiKey = z.object({
  id: ZId,
  name: z.string(),
  keyPrefix: z.string(),
  scopes: z.array(ZApiKeyScope),
  createdAt: ZTimestamp,
  lastUsedAt: ZTimestamp.nullable(),
  expiresAt: ZTimestamp.nullable(),
  revokedAt: ZTimestamp.nullable(),
});
export type TApiKey = z.infer<typeof ZApiKey>;

/** The one response that carries the key: it is stored only as a hash, so it cannot be shown again. */
export const ZCreatedApiKey = z.object({ key: z.string(), apiKey: ZApiKey });
export type TCreatedApiKey = z.infer<typeof ZCreatedApiKey>;

export const ZListApiKeysInput = z
  .strictObject({ limit: z.number().int().min(1).optional(), cursor: ZCursor.optional() })
  .optional();
export type TListApiKeysInput = z.infer<typeof ZListApiKeysInput>;

export const ZApiKeyPage = z.object({ items: z.array(ZApiKey), nextCursor: ZCursor.nullable() });
export type TApiKeyPage = z.infer<typeof ZApiKeyPage>;

export const ZRevokeApiKeyInput = z.strictObject({ id: ZId });
export type TRevokeApiKeyInput = z.infer<typeof ZRevokeApiKeyInput>;
