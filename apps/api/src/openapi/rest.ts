import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@threadstore/runtime';
import { getErrorShape, TRPCError, type AnyTRPCRouter } from '@trpc/server';
import type { CreateHTTPContextOptions } from '@trpc/server/adapters/standalone';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { DomainError } from '@threadstore/domain';
import { createCallerFactory } from '../trpc/init.ts';
import type { Context } from '../trpc/context.ts';
import { readBodyText } from '../trpc/read-body.ts';
import { isStringSchema, restOperations, type RestOperation } from './document.ts';

export interface RestHandlerOptions {
  router: AnyTRPCRouter;
  /** The tRPC adapter's own createContext: same authentication, limits and rate limits. */
  createContext: (options: CreateHTTPContextOptions) => Promise<Context>;
  logger: Logger;
  maxBodyBytes: number;
}

type JsonSchema = Record<string, unknown>;

interface Route extends RestOperation {
  /** Query parameters passed as they are (strings), not JSON-decoded. */
  stringParams: Set<string>;
}

/**
 * Serves `/api/<router>/<procedure>` by calling the procedure through a server-side caller built
 * on the request's own context, so the REST form goes through exactly the middleware tRPC calls
 * do (authentication, scopes, tenancy, rate limits, error translation, output validation).
 */
export function createRestHandler({ router, createContext, logger, maxBodyBytes }: RestHandlerOptions) {
  const routes = new Map<string, Route>();
  for (const operation of restOperations(router)) {
    const properties = operation.input
      ? (((operation.input.toJSONSchema?.({ io: 'input', unrepresentable: 'any' }) as JsonSchema | undefined)
          ?.properties ?? {}) as Record<string, JsonSchema>)
      : {};
    const stringParams = new Set(
      Object.entries(properties)
        .filter(([, schema]) => isStringSchema(schema))
        .map(([name]) => name),
    );
    routes.set(operation.path, { ...operation, stringParams });
  }
  const createCaller = createCallerFactory(router);

  return async function handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const route = routes.get(path);
    if (route === undefined) {
      sendError(res, new TRPCError({ code: 'NOT_FOUND', message: `no operation at ${path}` }));
      return;
    }
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    if (method !== route.method.toUpperCase()) {
      res.setHeader('allow', route.method.toUpperCase());
      sendError(res, new TRPCError({ code: 'METHOD_NOT_SUPPORTED', message: `use ${route.method.toUpperCase()}` }));
      return;
    }

    let ctx: Context | undefined;
    let input: unknown;
    try {
      input = route.method === 'get' ? queryInput(req, route) : await bodyInput(req, maxBodyBytes);
      ctx = await createContext({ req, res, info: undefined as never });
      // Walk the caller's proxy to the procedure: `sessions.get` → caller.sessions.get.
      let target: unknown = createCaller(ctx);
      for (const segment of route.procedure.split('.')) target = (target as Record<string, unknown>)[segment];
      const output = await (target as (input: unknown) => Promise<unknown>)(input);
      sendJson(res, 200, output ?? null);
    } catch (cause) {
      const error =
        cause instanceof TRPCError
          ? cause
          : new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'internal error', cause });
      const status = getHTTPStatusCodeFromError(error);
      const fields = { requestId: ctx?.requestId, procedure: route.procedure, code: error.code, rest: true };
      if (status >= 500) logger.error({ ...fields, err: error }, 'procedure failed');
      else logger.info({ ...fields, message: error.message }, 'procedure rejected the request');
      sendError(res, error, { router, route, input, ctx });
    }
  };
}

/** Query parameters as the procedure's input: strings as given, anything else JSON-decoded. */
function queryInput(req: IncomingMessage, route: Route): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [name, value] of new URL(req.url ?? '/', 'http://localhost').searchParams) {
    if (route.stringParams.has(name)) {
      input[name] = value;
      continue;
    }
    try {
      input[name] = JSON.parse(value);
    } catch {
      // Left as text: the input schema names the field and what it expected.
      input[name] = value;
    }
  }
  return input;
}

async function bodyInput(req: IncomingMessage, maxBodyBytes: number): Promise<unknown> {
  const text = await readBodyText(
    req,
    maxBodyBytes,
    () => new TRPCError({ code: 'PAYLOAD_TOO_LARGE', message: `request body exceeds ${maxBodyBytes} bytes` }),
  );
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new TRPCError({ code: 'PARSE_ERROR', message: 'the request body is not valid JSON', cause });
  }
}

function sendError(
  res: ServerResponse,
  error: TRPCError,
  call: { router?: AnyTRPCRouter; route?: Route; input?: unknown; ctx?: Context | undefined } = {},
): void {
  const status = getHTTPStatusCodeFromError(error);
  // The same shape (and so the same formatter: readable zod messages, details, no stack) tRPC sends.
  const shape = call.router
    ? getErrorShape({
        config: call.router._def._config,
        error,
        type: call.route?.type ?? 'unknown',
        path: call.route?.procedure,
        input: call.input,
        ctx: call.ctx,
      })
    : undefined;
  const data = (shape?.data ?? {}) as Record<string, unknown>;
  const retryAfter =
    error.code === 'SERVICE_UNAVAILABLE'
      ? 1
      : error.cause instanceof DomainError
        ? error.cause.details?.retryAfterSeconds
        : undefined;
  if (typeof retryAfter === 'number') res.setHeader('retry-after', String(retryAfter));
  sendJson(res, status, {
    error: {
      code: error.code,
      message: shape?.message ?? error.message,
      httpStatus: status,
      details: data.details ?? null,
      zodError: data.zodError ?? null,
    },
  });
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
