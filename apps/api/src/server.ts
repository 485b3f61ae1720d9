import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MikroORM } from '@threadstore/db';
import type { Logger } from '@threadstore/runtime';
import { getErrorShape, TRPCError } from '@trpc/server';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { DomainError } from '@threadstore/domain';
import type { JobQueue } from './admin/job-queue.ts';
import { createAuthenticator, type AuthConfig } from './auth/authenticator.ts';
import { createLocalAccounts } from './auth/tokens.ts';
import { chatDefaultsFrom, type ChatEnv } from './chat-env.ts';
import { contentLimitsFrom, type ApiConfig } from './env.ts';
import { createLive, type LiveOptions } from './live/live.ts';
import { checkReadiness } from './routers/health/readiness.ts';
import { appRouter } from './routers/_app.ts';
import { createContext, REQUEST_ID_HEADER, requestIdFrom } from './trpc/context.ts';
import { createRateLimiter } from './trpc/rate-limit.ts';

export type ApiServerConfig = AuthConfig &
  ChatEnv &
  Parameters<typeof contentLimitsFrom>[0] &
  Pick<
    ApiConfig,
    | 'API_HOST'
    | 'API_PORT'
    | 'NODE_ENV'
    | 'READINESS_TIMEOUT_MS'
    | 'LIMIT_MAX_BODY_BYTES'
    | 'RATE_LIMIT_PER_MINUTE'
    | 'RATE_LIMIT_BURST'
  >;

export interface ApiServerOptions {
  orm: MikroORM;
  logger: Logger;
  config: ApiServerConfig;
  /** For the admin procedures; without one they answer PRECONDITION_FAILED. */
  jobQueue?: JobQueue | null;
  /** The conversation loop's memories and (tests, benchmarks) responder. */
  chat?: Pick<LiveOptions, 'memories' | 'responderFor'>;
}

export interface ApiServer {
  server: Server;
  /** Resolves once the socket is bound, with the actual port (API_PORT=0 picks one). */
  listen(): Promise<{ port: number }>;
  /** Stops accepting connections, lets in-flight requests finish, then closes every socket. */
  close(): Promise<void>;
}

const TRPC_BASE_PATH = '/trpc';
// Orchestrators poll these every few seconds; logging them at info would drown real traffic.
const PROBE_PATHS = new Set(['/healthz', '/readyz']);

/** The API's HTTP server: probes, tRPC under /trpc, JSON 404 for anything else. */
export function createApiServer({ orm, logger, config, jobQueue = null, chat = {} }: ApiServerOptions): ApiServer {
  const limits = contentLimitsFrom(config);
  // The change feed (one LISTEN connection) and the conversation loop of this process.
  const live = createLive({ orm, logger, defaults: chatDefaultsFrom(config), limits, ...chat });
  const trpcHandler = createHTTPHandler({
    router: appRouter,
    basePath: `${TRPC_BASE_PATH}/`,
    createContext: createContext({
      orm,
      logger,
      config,
      limits,
      live,
      rateLimiter: createRateLimiter({ perMinute: config.RATE_LIMIT_PER_MINUTE, burst: config.RATE_LIMIT_BURST }),
      authenticator: createAuthenticator(config),
      localAccounts: createLocalAccounts(config),
      jobQueue,
    }),
    // tRPC counts bytes as they arrive and answers 413 once they pass the limit, so an endless
    // chunked body is cut off too, not only one that declares its length.
    maxBodySize: config.LIMIT_MAX_BODY_BYTES,
    responseMeta({ errors }) {
      const retryAfter = errors
        .map((error) => (error.cause instanceof DomainError ? error.cause.details?.retryAfterSeconds : undefined))
        .find((seconds) => typeof seconds === 'number');
      return retryAfter === undefined ? {} : { headers: { 'retry-after': String(retryAfter) } };
    },
    onError({ error, path, type, req }) {
      const fields = { requestId: req.headers[REQUEST_ID_HEADER], procedure: path, type, code: error.code };
      if (getHTTPStatusCodeFromError(error) >= 500) {
        logger.error({ ...fields, err: error }, 'procedure failed');
      } else {
        logger.info({ ...fields, message: error.message }, 'procedure rejected the request');
      }
    },
  });

  async function route(req: IncomingMessage, res: ServerResponse, path: string, requestId: string): Promise<void> {
    if (path === TRPC_BASE_PATH || path.startsWith(`${TRPC_BASE_PATH}/`)) {
      // A declared length over the limit is refused before reading (or parsing) any of it, in
      // tRPC's error shape: a typed client would otherwise fail with "Unable to transform response".
      if (Number(req.headers['content-length'] ?? 0) > config.LIMIT_MAX_BODY_BYTES) {
        res.setHeader('connection', 'close');
        const error = new TRPCError({
          code: 'PAYLOAD_TOO_LARGE',
          message: `request body exceeds ${config.LIMIT_MAX_BODY_BYTES} bytes`,
        });
        const shape = getErrorShape({
          config: appRouter._def._config,
          error,
          type: 'unknown',
          path: undefined,
          input: undefined,
          ctx: undefined,
        });
        sendJson(res, 413, { error: shape });
        return;
      }
      trpcHandler(req, res);
      return;
    }
    if (!PROBE_PATHS.has(path)) {
      sendJson(res, 404, { error: 'not_found' });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      sendJson(res, 405, { error: 'method_not_allowed' });
      return;
    }
    if (path === '/healthz') {
      // Liveness only: touching the database here would get a healthy process restarted
      // whenever the database has a bad minute.
      sendJson(res, 200, { status: 'ok' });
      return;
    }
    const readiness = await checkReadiness(orm, {
      timeoutMs: config.READINESS_TIMEOUT_MS,
      logger: logger.child({ requestId }),
    });
    sendJson(res, readiness.ready ? 200 : 503, {
      status: readiness.ready ? 'ready' : 'not_ready',
      database: readiness.database,
      problems: readiness.problems,
    });
  }

  let closing = false;
  const server = createServer((req, res) => {
    const started = performance.now();
    const requestId = requestIdFrom(req.headers);
    // Rewritten in place so tRPC's createContext derives this same id, not a second random one.
    req.headers[REQUEST_ID_HEADER] = requestId;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    // The query string may carry tRPC input (user data), so only the path is logged.
    const path = (req.url ?? '/').split('?', 1)[0]!;

    res.once('finish', () => {
      // A keep-alive socket that just finished its last in-flight request would otherwise stay
      // open until keepAliveTimeout, holding close() (and the shutdown) back for seconds.
      if (closing) setImmediate(() => server.closeIdleConnections());
    });
    res.once('close', () => {
      logger[PROBE_PATHS.has(path) ? 'debug' : 'info'](
        {
          requestId,
          method: req.method,
          path,
          status: res.statusCode,
          durationMs: Math.round((performance.now() - started) * 10) / 10,
          ...(res.writableFinished ? {} : { aborted: true }),
        },
        'request',
      );
    });

    route(req, res, path, requestId).catch((error: unknown) => {
      logger.error({ requestId, err: error }, 'request failed');
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, { error: 'internal_error', requestId });
    });
  });

  return {
    server,
    listen: async () => {
      await live.start();
      // Chat needs the change feed; a database that is down must not keep the probes from answering.
      await Promise.race([live.connected, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.API_PORT, config.API_HOST, () => {
          server.off('error', reject);
          resolve({ port: (server.address() as AddressInfo).port });
        });
      });
    },
    close: async () => {
      // Subscriptions end and answers being generated here are stored as interrupted first;
      // otherwise their open responses would hold the server's close back.
      await live.stop();
      return new Promise((resolve, reject) => {
        closing = true;
        if (!server.listening) {
          resolve();
          return;
        }
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      });
    },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
  });
  res.end(payload);
}
