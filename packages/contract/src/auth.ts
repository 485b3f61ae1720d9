import * as z from 'zod';
import { ZApiKeyScope } from './api-keys.ts';
import { ZId, ZTimestamp } from './common.ts';

export const ZUserRole = z.enum(['user', 'admin']);
export type TUserRole = z.infer<typeof ZUserRole>;

/** A local account's login: compared case-insensitively ("Ana" and "ana" are one account). */
export const ZUsername = z
  .string()
  .min(3)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-", starting with a letter or digit');

/** Long passphrases welcome; the upper bound only keeps one hash from becoming a denial of service. */
export const ZPassword = z.string().min(8).max(1024);

/**
 * Any 8-4-4-4-12 hex id, as browsers generate for `X-Session-ID`. Deliberately looser than
 * `ZId`: an anonymous id is the client's choice, not one the server handed out.
 */
export const ZAnonymousId = z.guid();

export const ZSignUpInput = z.strictObject({
  username: ZUsername,
  password: ZPassword,
  email: z.email().max(320).optional(),
  displayName: z.string().trim().min(1).max(256).optional(),
});
export type TSignUpInput = z.infer<typeof ZSignUpInput>;

export const ZSignInInput = z.strictObject({
  // Not ZUsername: a malformed name is answered like an unknown one, without saying which rule it broke.
  username: z.string().min(1).max(64),
  password: ZPassword,
});
export type TSignInInput = z.infer<typeof ZSignInInput>;

export const ZAuthUser = z.object({
  id: ZId,
  username: z.string().nullable(),
  email: z.string().nullable(),
  displayName: z.string().nullable(),
  role: ZUserRole,
});
export type TAuthUser = z.infer<typeof ZAuthUser>;

/** What signing up or in returns: a bearer token for `Authorization: Bearer …`, and whose it is. */
export const ZAuthToken = z.object({
  token: z.string(),
  expiresAt: ZTimestamp,
  user: ZAuthUser,
});
export type TAuthToken = z.infer<typeof ZAuthToken>;

export const ZClaimAnonymousInput = z.strictObject({ anonymousId: ZAnonymousId });
export type TClaimAnonymousInput = z.infer<typeof ZClaimAnonymousInput>;

export const ZClaimAnonymousOutput = z.object({
  /** Sessions that moved from the anonymous id to the caller (0 when called again). */
  claimedSessions: z.number().int().nonnegative(),
  /**
   * Of those, sessions whose client key the caller already used on a session of their own: the
   * caller's session keeps the key, the claimed one keeps its messages but loses the key.
   */
  clientKeysDropped: z.number().int().nonnegative(),
});
export type TClaimAnonymousOutput = z.infer<typeof ZClaimAnonymousOutput>;

const ZAccount = z.object({
  userId: ZId,
  role: ZUserRole,
  username: z.string().nullable(),
  email: z.string().nullable(),
  displayName: z.string().nullable(),
});

export const ZWhoami = z.discriminatedUnion('kind', [
  ZAccount.extend({ kind: z.literal('user') }),
  ZAccount.extend({
    kind: z.literal('apiKey'),
    apiKeyId: ZId,
    scopes: z.array(ZApiKeyScope),
  }),
  z.object({ kind: z.literal('anonymous'), anonymousId: ZAnonymousId }),
]);
export type TWhoami = z.infer<typeof ZWhoami>;
