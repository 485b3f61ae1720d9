import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { EntityManager, MikroORM } from '@threadstore/db';
import type { Logger } from '@threadstore/runtime';
import type { CreateHTTPContextOptions } from '@trpc/server/adapters/standalone';
import type { ApiConfig } from '../env.ts';

/** The settings procedures (and the error formatter) read; tests state exactly these. */
export type RequestConfig = Pick<ApiConfig, 'NODE_ENV' | 'READINESS_TIMEOUT_MS'>;

/** What the server holds for its whole life and hands to every request. */
export interface ContextDependencies {
  orm: MikroORM;
  logger: Logger;
  config: RequestConfig;
}

export interface Context extends ContextDependencies {
  /** This request's own unit of work; never shared, so identity maps cannot leak between requests. */
  em: EntityManager;
  requestId: string;
  /** Already bound to `requestId`. */
  logger: Logger;
}

/**
 * The context of one call, without anything HTTP; tests build it directly for `createCaller`.
 * @see https://trpc.io/docs/v11/server/context#inner-and-outer-context
 */
export function createContextInner({
  orm,
  logger,
  config,
  requestId,
}: ContextDependencies & { requestId: string }): Context {
  return { em: orm.em.fork(), orm, logger: logger.child({ requestId }), config, requestId };
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

/** The HTTP adapter's `createContext`. */
export function createContext(dependencies: ContextDependencies): (options: CreateHTTPContextOptions) => Context {
  return ({ req }) => createContextInner({ ...dependencies, requestId: requestIdFrom(req.headers) });
}
