import type { IncomingHttpHeaders } from 'node:http';
import type { EntityManager } from '@threadstore/db';
import {
  authenticateApiKey,
  LAST_SEEN_PRECISION_MS,
  resolveTokenUser,
  type Principal,
  type TokenIdentity,
  type TokenUser,
} from '@threadstore/domain';
import type { ApiConfig } from '../env.ts';
import { createTokenVerifier, type TokenConfig } from './tokens.ts';

export const ANONYMOUS_ID_HEADER = 'x-session-id';
export const API_KEY_HEADER = 'x-api-key';

export interface Authentication {
  principal: Principal | null;
  /** Why presented credentials were refused; null when there were none or they were accepted. */
  failure: string | null;
}

/** Turns a request's credentials into a principal. Never throws for bad credentials. */
export interface Authenticator {
  authenticate(headers: IncomingHttpHeaders, em: EntityManager): Promise<Authentication>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An anonymous visitor's `X-Session-ID`: a client-generated UUID (kept in localStorage). */
export function anonymousFrom(headers: IncomingHttpHeaders, allowAnonymous: boolean): Authentication {
  const given = headers[ANONYMOUS_ID_HEADER];
  if (given === undefined) return { principal: null, failure: null };
  if (!allowAnonymous) return { principal: null, failure: 'anonymous access is disabled on this server' };
  if (typeof given !== 'string' || !UUID.test(given)) {
    return { principal: null, failure: `${ANONYMOUS_ID_HEADER} must be a UUID` };
  }
  return { principal: { kind: 'anonymous', anonymousId: given.toLowerCase() }, failure: null };
}

export type AuthConfig = TokenConfig & Pick<ApiConfig, 'AUTH_ALLOW_ANONYMOUS'>;

export interface UserCacheOptions {
  /** Token users remembered at most; the least recently used go first. */
  maxEntries?: number;
  /**
   * How long a remembered user (its role, whether it is deleted) is trusted without asking the
   * database: a role change or a deletion reaches a running API within this.
   */
  ttlMs?: number;
}

const BEARER = /^Bearer +([^\s]+) *$/i;

/**
 * The server's authenticator: a bearer token, else an API key, else an anonymous id. Credentials
 * that are present but wrong are refused with the reason; they never fall back to anonymous.
 */
export function createAuthenticator(
  config: AuthConfig,
  { maxEntries = 10_000, ttlMs = 60_000 }: UserCacheOptions = {},
): Authenticator {
  const tokens = createTokenVerifier(config);
  // Verifying a signature is CPU only; the cache spares the token users' row a read (and the
  // lastSeenAt write) on every request.
  const users = new Map<string, { user: TokenUser; cachedAt: number }>();

  async function userOf(identity: TokenIdentity, em: EntityManager): Promise<TokenUser | null> {
    const key = `${identity.issuer}\n${identity.subject}`;
    const now = Date.now();
    const cached = users.get(key);
    users.delete(key);
    if (cached !== undefined && now - cached.cachedAt < ttlMs && !stale(cached.user, identity, now)) {
      users.set(key, cached);
      return cached.user;
    }
    const user = await resolveTokenUser(em, identity);
    if (user === null) return null;
    users.set(key, { user, cachedAt: now });
    if (users.size > maxEntries) users.delete(users.keys().next().value!);
    return user;
  }

  async function bearer(authorization: string, em: EntityManager): Promise<Authentication> {
    const token = BEARER.exec(authorization)?.[1];
    if (token === undefined) return refuse('the Authorization header must be "Bearer <token>"');
    const { identity, failure } = await tokens.verify(token);
    if (identity === null) return refuse(failure);
    const user = await userOf(identity, em);
    if (user === null) return refuse('bearer token names an account that does not exist');
    if (user.deleted) return refuse('this account has been deleted');
    return { principal: { kind: 'user', userId: user.userId, role: user.role }, failure: null };
  }

  return {
    async authenticate(headers, em) {
      const { authorization } = headers;
      const apiKey = headers[API_KEY_HEADER];
      // Two credentials naming possibly different principals: guessing which one was meant
      // would act for the wrong one half the time.
      if (authorization !== undefined && apiKey !== undefined) {
        return refuse(`send a bearer token or an ${API_KEY_HEADER} header, not both`);
      }
      if (authorization !== undefined) return bearer(authorization, em);
      if (apiKey !== undefined) {
        return typeof apiKey === 'string' ? authenticateApiKey(em, apiKey) : refuse(`send one ${API_KEY_HEADER}`);
      }
      return anonymousFrom(headers, config.AUTH_ALLOW_ANONYMOUS);
    },
  };
}

/** Whether the token says something new about the user, or the row's lastSeenAt is due a refresh. */
function stale(user: TokenUser, identity: TokenIdentity, now: number): boolean {
  return (
    (identity.email !== null && identity.email !== user.email) ||
    (identity.displayName !== null && identity.displayName !== user.displayName) ||
    user.lastSeenAt === null ||
    now - user.lastSeenAt.getTime() >= LAST_SEEN_PRECISION_MS
  );
}

function refuse(failure: string): Authentication {
  return { principal: null, failure };
}
