import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { DEFAULT_CONTENT_LIMITS, type ContentLimits } from '@threadstore/contract';
import type { EntityManager, MikroORM } from '@threadstore/db';
import type { Actor, Principal } from '@threadstore/domain';
import type { Logger } from '@threadstore/runtime';
import type { CreateHTTPContextOptions } from '@trpc/server/adapters/standalone';
import type { JobQueue } from '../admin/job-queue.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import type { LocalAccounts } from '../auth/tokens.ts';
import type { Live } from '../live/live.ts';
import type { ApiConfig } from '../env.ts';
import { detachedMetrics, type ApiMetrics } from '../metrics.ts';
import { createReadinessMonitor, type ReadinessMonitor } from '../routers/health/readiness.ts';
import { TRPCError } from '@trpc/server';
import { isDatabaseUnavailable } from './database-unavailable.ts';
import { unlimitedShare, type CallShare } from './call-share.ts';
import { unlimited, type RateLimiter } from './rate-limit.ts';

/** The settings procedures (and the error formatter) read; tests state exactly these. */
export type RequestConfig = Pick<ApiConfig, 'NODE_ENV' | 'READINESS_TIMEOUT_MS'> &
  Partial<Pick<ApiConfig, 'API_EXPOSE_STACK_TRACES'>>;

/** What the server holds for its whole life and hands to every request. */
export interface ContextDependencies {
  orm: MikroORM;
  logger: Logger;
  config: RequestConfig;
  /** Content and page limits; tests that do not care get the defaults. */
  limits?: ContentLimits;
  rateLimiter?: RateLimiter;
  /** How many calls without credentials may run at once (by default: no bound). */
  anonymousShare?: CallShare;
  /** How many mutations may run at once, leaving the rest of the pool to reads (by default: no bound). */
  writeShare?: CallShare;
  /** The worker's queues, for the admin procedures; null where no queue is wired (most tests). */
  jobQueue?: JobQueue | null;
  /** Signs local accounts' tokens; null (the default) where local accounts are off. */
  localAccounts?: LocalAccounts | null;
  /** The server's shared, cached readiness; by default every call checks afresh. */
  readiness?: ReadinessMonitor;
  /** The server's Prometheus metrics; by default counted but never exported. */
  metrics?: ApiMetrics;
  /** The change feed and conversation loop, for chat.* and the watch subscriptions; null where not wired. */
  live?: Live | null;
}

export interface Context {
  orm: MikroORM;
  config: RequestConfig;
  limits: ContentLimits;
  rateLimiter: RateLimiter;
  anonymousShare: CallShare;
  writeShare: CallShare;
  jobQueue: JobQueue | null;
  localAccounts: LocalAccounts | null;
  readiness: ReadinessMonitor;
  metrics: ApiMetrics;
  live: Live | null;
  /** This request's own unit of work; never shared, so identity maps cannot leak between requests. */
  em: EntityManager;
  requestId: string;
  /** Already bound to `requestId`. */
  logger: Logger;
  /** Who is calling, once their credentials checked out; null for nobody (or refused credentials). */
  principal: Principal | null;
  /** Why presented credentials were refused (expired token, revoked key…); null when none were refused. */
  authFailure: string | null;
  /** The peer address, to rate-limit callers that present no credentials. */
  clientAddress: string | null;
}

/** The principal-and-request pair domain mutations take for their audit rows. */
export function actorOf(ctx: Pick<Context, 'requestId'> & { principal: Principal }): Actor {
  return { principal: ctx.principal, requestId: ctx.requestId };
}

/**
 * The context of one call, without anything HTTP; tests build it directly for `createCaller`
 * and state the principal outright.
 * @see https://trpc.io/docs/v11/server/context#inner-and-outer-context
 */
export function createContextInner({
  orm,
  logger,
  config,
  limits = DEFAULT_CONTENT_LIMITS,
  rateLimiter = unlimited,
  anonymousShare = unlimitedShare,
  writeShare = unlimitedShare,
  jobQueue = null,
  localAccounts = null,
  readiness,
  metrics = detachedMetrics,
  live = null,
  requestId,
  principal = null,
  authFailure = null,
  clientAddress = null,
}: ContextDependencies & {
  requestId: string;
  principal?: Principal | null;
  authFailure?: string | null;
  clientAddress?: string | null;
}): Context {
  const requestLogger = logger.child({ requestId });
  return {
    em: orm.em.fork(),
    orm,
    config,
    limits,
    rateLimiter,
    anonymousShare,
    writeShare,
    jobQueue,
    localAccounts,
    readiness:
      readiness ??
      createReadinessMonitor(orm, { timeoutMs: config.READINESS_TIMEOUT_MS, logger: requestLogger, maxAgeMs: 0 }),
    metrics,
    live,
    logger: requestLogger,
    requestId,
    principal,
    authFailure,
    clientAddress,
  };
}

export const REQUEST_ID_HEADER = 'x-request-id';

// The id lands in every log line of the request and is echoed in a response header: a bounded,
// plain alphabet keeps a client from bloating logs or smuggling odd bytes through either.
const ACCEPTABLE_REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;

/** The caller's `x-request-id` when it is acceptable (so traces join up across services), else a new one. */
export function requestIdFrom(headers: IncomingHttpHeaders): string {
  const given = headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && ACCEPTABLE_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * The HTTP adapter's `createContext`: the inner context plus whoever the request's headers
 * prove the caller to be. It never throws for bad credentials; procedures that need a principal
 * answer UNAUTHORIZED with `authFailure`, and public ones (sign-in) still work.
 */
export function createContext(
  dependencies: ContextDependencies & { authenticator: Authenticator },
): (options: CreateHTTPContextOptions) => Promise<Context> {
  const { authenticator, ...inner } = dependencies;
  return async ({ req, info }) => {
    const ctx = createContextInner({
      ...inner,
      requestId: requestIdFrom(req.headers),
      clientAddress: req.socket.remoteAddress ?? null,
    });
    const { principal, failure } = await authenticator
      .authenticate(withConnectionParams(req.headers, info?.connectionParams), ctx.em)
      .catch((error: unknown) => {
        // Checking an API key or a user needs the database; without it, say so rather than 500.
        if (isDatabaseUnavailable(error)) {
          throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: 'the database is unavailable; retry shortly' });
        }
        throw error;
      });
    ctx.principal = principal;
    ctx.authFailure = failure;
    return ctx;
  };
}

const CREDENTIAL_PARAMS = ['authorization', 'x-api-key', 'x-session-id'] as const;

/**
 * A browser's EventSource cannot send headers, so subscriptions over SSE bring their credentials
 * as tRPC connection params (`authorization`, `x-api-key`, `x-session-id`); headers still win.
 */
function withConnectionParams(
  headers: IncomingHttpHeaders,
  params: Record<string, string | undefined> | null | undefined,
): IncomingHttpHeaders {
  if (params == null) return headers;
  const merged: IncomingHttpHeaders = { ...headers };
  for (const name of CREDENTIAL_PARAMS) {
    const value = params[name];
    if (merged[name] === undefined && typeof value === 'string') merged[name] = value;
  }
  return merged;
}
