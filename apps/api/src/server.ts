import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Server as NetServer, type AddressInfo } from 'node:net';
import type { MikroORM } from '@threadstore/db';
import type { Logger } from '@threadstore/runtime';
import { getErrorShape, TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { DomainError } from '@threadstore/domain';
import { createAccountHttp } from './account/http.ts';
import { sendJson } from './send-json.ts';
import type { JobQueue } from './admin/job-queue.ts';
import { createAuthenticator, type AuthConfig } from './auth/authenticator.ts';
import { createLocalAccounts } from './auth/tokens.ts';
import { chatDefaultsFrom, type ChatEnv } from './chat-env.ts';
import { contentLimitsFrom, rateLimitSettingsFrom, type ApiConfig } from './env.ts';
import type { MetricsText } from './cluster/worker.ts';
import { createApiMetrics, trackWaitingWrites, type ApiMetrics } from './metrics.ts';
import { openApiDocument, REST_BASE_PATH } from './openapi/document.ts';
import { createRestHandler } from './openapi/rest.ts';
import { API_VERSION } from './version.ts';
import { createReadinessMonitor } from './routers/health/readiness.ts';
import { createLive, type LiveOptions } from './live/live.ts';
import { appRouter } from './routers/_app.ts';
import { createContext, REQUEST_ID_HEADER, requestIdFrom } from './trpc/context.ts';
import { createTrpcHttpHandler } from './trpc/http.ts';
import { createCallShare, writeLimit } from './trpc/call-share.ts';
import { createRateLimiter, type RateLimiter } from './trpc/rate-limit.ts';
import { applyCors } from './web/cors.ts';
import { createStaticSite } from './web/static-site.ts';

export type ApiServerConfig = AuthConfig &
  ChatEnv &
  Parameters<typeof contentLimitsFrom>[0] &
  Pick<
    ApiConfig,
    | 'API_HOST'
    | 'API_PORT'
    | 'NODE_ENV'
    | 'API_EXPOSE_STACK_TRACES'
    | 'READINESS_TIMEOUT_MS'
    | 'LIMIT_MAX_BODY_BYTES'
    | 'LIMIT_MAX_IMPORT_BYTES'
    | 'LIMIT_MAX_BATCH_CALLS'
    | 'LIMIT_ANONYMOUS_CONCURRENCY'
    | 'LIMIT_ANONYMOUS_QUEUE'
    | 'DATABASE_POOL_READ_RESERVE'
    | 'LIMIT_WRITE_QUEUE'
    | 'METRICS_ENABLED'
    | 'METRICS_BEARER_TOKEN'
    | 'RATE_LIMIT_PER_MINUTE'
    | 'RATE_LIMIT_BURST'
    | 'RATE_LIMIT_ADDRESS_PER_MINUTE'
    | 'RATE_LIMIT_ADDRESS_BURST'
    | 'WEB_DIST_DIR'
    | 'CORS_ORIGINS'
  >;

export interface ApiServerOptions {
  orm: MikroORM;
  logger: Logger;
  config: ApiServerConfig;
  /** For the admin procedures; without one they answer PRECONDITION_FAILED. */
  jobQueue?: JobQueue | null;
  /** Shared budgets (RATE_LIMIT_STORE=postgres); by default this process's own, from `config`. */
  rateLimiter?: RateLimiter;
  /** Served at /metrics; by default a new set, with the process and pool metrics. */
  metrics?: ApiMetrics;
  /** What /metrics serves instead of `metrics` alone (a cluster worker: every worker's, added up). */
  metricsText?: () => Promise<MetricsText>;
  /** The conversation loop's memories and (tests, benchmarks) responder. */
  chat?: Pick<LiveOptions, 'memories' | 'responderFor'>;
  /** False leaves every tRPC call to tRPC's fetch adapter (tests comparing it with trpc/direct.ts). */
  directCalls?: boolean;
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
const METRICS_PATH = '/metrics';
/** How long a closing server leaves idle keep-alive sockets to their clients' next request (answered, then closed). */
const CLOSE_GRACE_MS = 300;
const OPENAPI_PATH = '/openapi.json';
const IMPORT_PATH = `${TRPC_BASE_PATH}/messages.import`;
// What tRPC serves (queries GET, mutations POST) plus what a browser or proxy may ask first.
const TRPC_METHODS = new Set(['GET', 'POST', 'HEAD', 'OPTIONS']);

/** The API's HTTP server: probes, tRPC under /trpc, JSON 404 for anything else. */
export function createApiServer({
  orm,
  logger,
  config,
  jobQueue = null,
  rateLimiter,
  metrics = createApiMetrics({ orm }),
  metricsText = async () => ({ text: await metrics.registry.metrics(), contentType: metrics.registry.contentType }),
  chat = {},
  directCalls = true,
}: ApiServerOptions): ApiServer {
  // One status for every probe and health.check of this process, refreshed at most once a second.
  const readiness = createReadinessMonitor(orm, { timeoutMs: config.READINESS_TIMEOUT_MS, logger });
  const limits = contentLimitsFrom(config);
  // The change feed (one LISTEN connection) and the conversation loop of this process.
  const live = createLive({ orm, logger, defaults: chatDefaultsFrom(config), limits, ...chat });
  const authenticator = createAuthenticator(config);
  const accountHttp = createAccountHttp({ orm, logger, authenticator, maxLineBytes: config.LIMIT_MAX_BODY_BYTES });
  // Mutations leave DATABASE_POOL_READ_RESERVE of the pool's connections to reads (see env.ts).
  const writeShare = createCallShare({
    limit: writeLimit(orm.config.get('pool')?.max ?? 10, config.DATABASE_POOL_READ_RESERVE),
    queue: config.LIMIT_WRITE_QUEUE,
    refuse: () =>
      new TRPCError({
        code: 'SERVICE_UNAVAILABLE',
        message: 'too many writes waiting for the database; retry shortly',
      }),
  });
  trackWaitingWrites(metrics, writeShare);
  const context = createContext({
    orm,
    logger,
    config,
    limits,
    live,
    rateLimiter: rateLimiter ?? createRateLimiter(rateLimitSettingsFrom(config)),
    anonymousShare: createCallShare({ limit: config.LIMIT_ANONYMOUS_CONCURRENCY, queue: config.LIMIT_ANONYMOUS_QUEUE }),
    writeShare,
    authenticator,
    localAccounts: createLocalAccounts(config),
    jobQueue,
    readiness,
    metrics,
  });
  // What both tRPC handlers share: the router, the context, errors' retry hints and logging.
  const trpcOptions = {
    router: appRouter,
    endpoint: TRPC_BASE_PATH,
    createContext: context,
    responseMeta({ errors }: { errors: TRPCError[] }) {
      if (errors.some((error) => error.code === 'SERVICE_UNAVAILABLE')) return { headers: { 'retry-after': '1' } };
      const retryAfter = errors
        .map((error) => (error.cause instanceof DomainError ? error.cause.details?.retryAfterSeconds : undefined))
        .find((seconds) => typeof seconds === 'number');
      return retryAfter === undefined ? {} : { headers: { 'retry-after': String(retryAfter) } };
    },
    onError({
      error,
      path,
      type,
      req,
    }: {
      error: TRPCError;
      path: string | undefined;
      type: string;
      req: IncomingMessage;
    }) {
      const fields = { requestId: req.headers[REQUEST_ID_HEADER], procedure: path, type, code: error.code };
      if (getHTTPStatusCodeFromError(error) >= 500) {
        logger.error({ ...fields, err: error }, 'procedure failed');
      } else {
        logger.info({ ...fields, message: error.message }, 'procedure rejected the request');
      }
    },
  };
  const trpcHandler = createTrpcHttpHandler({
    ...trpcOptions,
    maxBatchSize: config.LIMIT_MAX_BATCH_CALLS,
    directCalls,
    // tRPC counts bytes as they arrive and answers 413 once they pass the limit, so an endless
    // chunked body is cut off too, not only one that declares its length.
    maxBodySize: config.LIMIT_MAX_BODY_BYTES,
  });
  // messages.import streams a body of up to LIMIT_MAX_IMPORT_BYTES (NDJSON, parsed as it arrives,
  // never held whole): the same router and context behind a handler whose only difference is
  // that limit, for that one path, so every other procedure keeps LIMIT_MAX_BODY_BYTES.
  const importHandler = createTrpcHttpHandler({
    ...trpcOptions,
    allowBatching: false,
    maxBodySize: config.LIMIT_MAX_IMPORT_BYTES,
  });

  const restHandler = createRestHandler({
    router: appRouter,
    createContext: context,
    logger,
    maxBodyBytes: config.LIMIT_MAX_BODY_BYTES,
  });
  const site = config.WEB_DIST_DIR === '' ? null : createStaticSite(config.WEB_DIST_DIR);
  // Built once: the router does not change while the process runs.
  const openApi = JSON.stringify(openApiDocument(appRouter, { version: API_VERSION }));

  async function route(req: IncomingMessage, res: ServerResponse, path: string, requestId: string): Promise<void> {
    if (path.startsWith(`${REST_BASE_PATH}/`)) {
      if (Number(req.headers['content-length'] ?? 0) > config.LIMIT_MAX_BODY_BYTES) {
        res.setHeader('connection', 'close');
        sendJson(res, 413, {
          error: {
            code: 'PAYLOAD_TOO_LARGE',
            message: `request body exceeds ${config.LIMIT_MAX_BODY_BYTES} bytes`,
            httpStatus: 413,
            details: null,
            zodError: null,
          },
        });
        return;
      }
      await restHandler(req, res, path);
      return;
    }
    if (path === OPENAPI_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(openApi);
      return;
    }
    if (path === TRPC_BASE_PATH || path.startsWith(`${TRPC_BASE_PATH}/`)) {
      // A declared length over the limit is refused before reading (or parsing) any of it, in
      // tRPC's error shape: a typed client would otherwise fail with "Unable to transform response".
      const isImport = path === IMPORT_PATH;
      const maxBody = isImport ? config.LIMIT_MAX_IMPORT_BYTES : config.LIMIT_MAX_BODY_BYTES;
      if (Number(req.headers['content-length'] ?? 0) > maxBody) {
        res.setHeader('connection', 'close');
        sendTrpcError(res, 413, 'PAYLOAD_TOO_LARGE', `request body exceeds ${maxBody} bytes`);
        return;
      }
      // tRPC turns the request into a fetch Request, whose constructor throws on TRACE, CONNECT
      // and unknown methods: that surfaced as a 500 and an error in the log.
      if (!TRPC_METHODS.has(req.method ?? '')) {
        res.setHeader('allow', 'GET, POST');
        sendTrpcError(res, 405, 'METHOD_NOT_SUPPORTED', `${req.method} is not supported; use GET or POST`);
        return;
      }
      await (isImport ? importHandler : trpcHandler)(req, res);
      return;
    }
    if (await accountHttp(req, res, path, requestId)) return;
    if (path === METRICS_PATH && config.METRICS_ENABLED) {
      await serveMetrics(req, res);
      return;
    }
    if (!PROBE_PATHS.has(path)) {
      if (await site?.serve(req, res, path)) return;
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
    const status = await readiness.current();
    sendJson(res, status.ready ? 200 : 503, {
      status: status.ready ? 'ready' : 'not_ready',
      database: status.database,
      problems: status.problems,
    });
  }

  async function serveMetrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      sendJson(res, 405, { error: 'method_not_allowed' });
      return;
    }
    const token = config.METRICS_BEARER_TOKEN;
    if (token !== undefined && !sameSecret(req.headers.authorization ?? '', `Bearer ${token}`)) {
      res.setHeader('www-authenticate', 'Bearer');
      sendJson(res, 401, { error: 'unauthorized' });
      return;
    }
    let answer: MetricsText;
    try {
      answer = await metricsText();
    } catch (error) {
      logger.warn({ err: error }, 'metrics could not be gathered');
      sendJson(res, 503, { error: 'metrics_unavailable' });
      return;
    }
    res.writeHead(200, { 'content-type': answer.contentType, 'cache-control': 'no-store' });
    res.end(answer.text);
  }

  let closing = false;
  // Requests being answered, subscriptions aside (they last until the change feed ends them):
  // close() lets these finish while the change feed can still announce what they commit, and
  // before the caller closes the ORM under them.
  const calls = new Set<Promise<void>>();
  // Responses not yet finished, so close() can still mark them as the last on their socket.
  const answering = new Set<ServerResponse>();
  const subscriptions = new Set(
    Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>)
      .filter(([, procedure]) => procedure._def.type === 'subscription')
      .map(([name]) => `${TRPC_BASE_PATH}/${name}`),
  );
  const server = createServer((req, res) => {
    const started = performance.now();
    const requestId = requestIdFrom(req.headers);
    // Rewritten in place so tRPC's createContext derives this same id, not a second random one.
    req.headers[REQUEST_ID_HEADER] = requestId;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    // The query string may carry tRPC input (user data), so only the path is logged.
    const path = (req.url ?? '/').split('?', 1)[0]!;
    metrics.inFlight.inc();

    answering.add(res);
    res.once('close', () => {
      answering.delete(res);
      metrics.inFlight.dec();
      logger[PROBE_PATHS.has(path) || path === METRICS_PATH ? 'debug' : 'info'](
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

    // While closing, a keep-alive socket carries this request and no other: the client opens its
    // next connection elsewhere (to the process replacing this one) instead of racing our close.
    if (closing) res.setHeader('connection', 'close');
    if (applyCors(req, res, config.CORS_ORIGINS)) return;
    const call = route(req, res, path, requestId).catch((error: unknown) => {
      logger.error({ requestId, err: error }, 'request failed');
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, { error: 'internal_error', requestId });
    });
    if (subscriptions.has(path)) return;
    calls.add(call);
    void call.finally(() => calls.delete(call));
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
      closing = true;
      // No new connections (a client trying one is refused: it knows its request was not
      // received), and every answer from now on is the last on its keep-alive socket: busy
      // clients get one more answer each, then reconnect (to the process replacing this one)
      // instead of sending on a socket we close under them, a reset that a client cannot tell
      // from a lost request. Sockets still idle after a short grace are closed.
      for (const res of answering) if (!res.headersSent) res.setHeader('connection', 'close');
      // net.Server's close, not http.Server's: the latter also closes every connection idle at
      // that instant, and a keep-alive connection between two requests of a busy client is idle
      // for a moment: its next request would meet a reset (seen in a shutdown under load).
      const closed = server.listening
        ? new Promise<void>((resolve, reject) =>
            NetServer.prototype.close.call(server, (error) => (error ? reject(error) : resolve())),
          )
        : Promise.resolve();
      await new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS));
      server.closeIdleConnections();
      // Requests in flight finish first (one more may still arrive on each busy keep-alive
      // socket), so what they commit is announced by the change feed, which is still running.
      while (calls.size > 0) await Promise.allSettled([...calls]);
      // Then subscriptions end and answers being generated here are stored as interrupted;
      // otherwise their open responses would hold the server's close back.
      await live.stop();
      await closed;
    },
  };
}

/** An error answered before tRPC sees the request, in the shape typed clients understand. */
function sendTrpcError(res: ServerResponse, status: number, code: TRPCError['code'], message: string): void {
  const shape = getErrorShape({
    config: appRouter._def._config,
    error: new TRPCError({ code, message }),
    type: 'unknown',
    path: undefined,
    input: undefined,
    ctx: undefined,
  });
  sendJson(res, status, { error: shape });
}

/** Compares without leaking, through timing, how much of a guess was right. */
function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
