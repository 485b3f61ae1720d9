import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  callTRPCProcedure,
  getErrorShape,
  getTRPCErrorFromUnknown,
  TRPCError,
  type AnyTRPCProcedure,
  type AnyTRPCRouter,
} from '@trpc/server';
import { getHTTPStatusCode } from '@trpc/server/http';
import type { TrpcHttpOptions } from './http.ts';
import { readBodyText } from './read-body.ts';

type Info = Parameters<TrpcHttpOptions<AnyTRPCRouter>['createContext']>[0]['info'];
type Call = Info['calls'][number];
type Answer = Parameters<typeof getHTTPStatusCode>[0] extends infer R ? Exclude<R, unknown[]> : never;

/** What tRPC serves each procedure type with (no method override). */
const METHOD_OF: Record<string, string | undefined> = { query: 'GET', mutation: 'POST' };

/**
 * The common calls (queries and mutations with JSON input, batched or not) answered straight
 * from the Node request, without tRPC's fetch adapter; everything else returns false untouched
 * and goes to tRPC's own handler (subscriptions, streamed jsonl batches, binary inputs, unknown
 * paths, wrong methods and other errors of the request's form, which tRPC words itself).
 *
 * Why: the fetch adapter turns every call into a WHATWG Request with a streamed body and every
 * answer into a Response (Headers, body stream, then our arrayBuffer()), around 20 µs of the API
 * process's CPU per call plus tRPC's own request parsing; on the append benchmark the API spent
 * about 2.8× the bare baseline's CPU per request. What a call does is unchanged: the procedure
 * runs through the same `callTRPCProcedure` (every middleware, input and output validation), its
 * context comes from the same `createContext`, errors take the same shape (`getErrorShape`, the
 * app's error formatter), status (`getHTTPStatusCode`), `onError` and `responseMeta` headers, and
 * a malformed input fails where tRPC's own reader would fail it: inside the call, as BAD_REQUEST.
 * server.test.ts compares the two paths answer by answer.
 */
export function createDirectCalls<TRouter extends AnyTRPCRouter>(
  options: TrpcHttpOptions<TRouter>,
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const {
    router,
    endpoint,
    createContext,
    maxBatchSize,
    allowBatching = true,
    maxBodySize,
    responseMeta,
    onError,
  } = options;
  const config = router._def._config;
  const procedures = router._def.procedures as Record<string, AnyTRPCProcedure | undefined>;
  const prefix = `${endpoint}/`;

  return async (req, res) => {
    const method = req.method;
    if (method !== 'GET' && method !== 'POST') return false;
    if (req.headers['trpc-accept'] !== undefined) return false;
    if (method === 'POST' && !isJson(req.headers['content-type'])) return false;
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const pathname = query === -1 ? url : url.slice(0, query);
    if (!pathname.startsWith(prefix)) return false;
    const search = new URLSearchParams(query === -1 ? '' : url.slice(query + 1));
    if (search.has('connectionParams')) return false;
    const batch = search.get('batch') === '1';
    if (batch && !allowBatching) return false;
    let paths: string[];
    try {
      const path = decodeURIComponent(pathname.slice(prefix.length));
      paths = batch ? path.split(',') : [path];
    } catch {
      return false;
    }
    if (batch && maxBatchSize !== undefined && paths.length > maxBatchSize) return false;
    const found = paths.map((path) => procedures[path]);
    if (!found.every((procedure) => procedure !== undefined && METHOD_OF[procedureType(procedure)] === method)) {
      return false;
    }
    const type = procedureType(found[0]!);

    // Read as tRPC reads them: on the first call's demand, every input of the request at once;
    // a body or input that is not JSON fails the calls that ask for it.
    let inputs: Promise<Record<number, unknown>> | undefined;
    let read: Record<number, unknown> | undefined;
    const readInputs = () =>
      (inputs ??= (async () => {
        try {
          const text =
            method === 'GET'
              ? (search.get('input') ?? '')
              : await readBodyText(req, maxBodySize, () => new TRPCError({ code: 'PAYLOAD_TOO_LARGE' }));
          const parsed: unknown = text === '' ? undefined : JSON.parse(text);
          read = parsed === undefined ? {} : !batch ? { 0: parsed } : batchInputs(parsed, paths.length);
          return read;
        } catch (cause) {
          // tRPC's reader words every failure but its own errors (413) this way.
          if (cause instanceof TRPCError) throw cause;
          const message = cause instanceof Error ? cause.message : 'Invalid input';
          throw new TRPCError({ code: 'BAD_REQUEST', message, cause });
        }
      })());

    const controller = new AbortController();
    const abort = () => {
      if (!res.writableFinished) controller.abort();
    };
    res.once('close', abort);

    const calls: Call[] = paths.map((path, index) => ({
      batchIndex: index,
      path,
      procedure: found[index]!,
      getRawInput: async () => (await readInputs())[index],
      result: () => read?.[index],
    }));
    const info: Info = {
      isBatchCall: batch,
      accept: null,
      calls,
      type,
      connectionParams: null,
      signal: controller.signal,
      // Nothing here reads it; built only if something does.
      get url() {
        return new URL(url, 'http://localhost');
      },
    };
    let ctx: Awaited<ReturnType<typeof createContext>> | undefined;
    let ctxError: TRPCError | undefined;
    try {
      ctx = await createContext({ req, res, info });
    } catch (cause) {
      ctxError = getTRPCErrorFromUnknown(cause);
    }

    const outcomes = await Promise.all(
      calls.map(async (call): Promise<[TRPCError | undefined, Answer]> => {
        try {
          if (ctxError !== undefined) throw ctxError;
          const data = await callTRPCProcedure({
            router,
            path: call.path,
            getRawInput: call.getRawInput,
            ctx,
            type,
            signal: controller.signal,
            batchIndex: call.batchIndex,
          });
          return [undefined, { result: { data } }];
        } catch (cause) {
          const error = getTRPCErrorFromUnknown(cause);
          const input = call.result();
          onError?.({ error, path: call.path, input, ctx, type, req } as Parameters<NonNullable<typeof onError>>[0]);
          return [error, { error: getErrorShape({ config, ctx, error, input, path: call.path, type }) }];
        }
      }),
    );
    res.off('close', abort);

    const errors = outcomes.flatMap(([error]) => (error === undefined ? [] : [error]));
    const answers = outcomes.map(([, answer]) => answer);
    let status = getHTTPStatusCode(batch ? answers : answers[0]!, outcomes.map(([error]) => error) as TRPCError[]);
    res.setHeader('vary', 'trpc-accept, accept');
    res.setHeader('content-type', 'application/json');
    const meta = responseMeta?.({
      ctx,
      info,
      paths,
      type,
      data: answers,
      errors,
      eagerGeneration: false,
    } as Parameters<NonNullable<typeof responseMeta>>[0]);
    for (const [name, value] of Object.entries(
      (meta?.headers ?? {}) as Record<string, string | string[] | undefined>,
    )) {
      if (value !== undefined) res.setHeader(name, value);
    }
    if (meta?.status !== undefined) status = meta.status;
    const body = JSON.stringify(batch ? answers : answers[0]);
    res.statusCode = status;
    res.setHeader('content-length', Buffer.byteLength(body));
    res.end(body);
    return true;
  };
}

function procedureType(procedure: AnyTRPCProcedure): 'query' | 'mutation' | 'subscription' {
  return procedure._def.type;
}

/** As tRPC matches its JSON reader: the media type, case-insensitively, before any parameter. */
function isJson(contentType: string | undefined): boolean {
  return contentType?.split(';', 1)[0]!.trim().toLowerCase() === 'application/json';
}

function batchInputs(parsed: unknown, count: number): Record<number, unknown> {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new TRPCError({ code: 'BAD_REQUEST', message: '"input" needs to be an object when doing a batch call' });
  }
  const inputs: Record<number, unknown> = {};
  for (let index = 0; index < count; index += 1) {
    const input = (parsed as Record<string, unknown>)[index];
    if (input !== undefined) inputs[index] = input;
  }
  return inputs;
}
