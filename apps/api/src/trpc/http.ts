import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AnyTRPCRouter } from '@trpc/server';
import { fetchRequestHandler, type FetchHandlerRequestOptions } from '@trpc/server/adapters/fetch';
import { incomingMessageToRequest } from '@trpc/server/adapters/node-http';
import type { CreateHTTPContextOptions } from '@trpc/server/adapters/standalone';
import { createDirectCalls } from './direct.ts';

type FetchOptions<TRouter extends AnyTRPCRouter> = FetchHandlerRequestOptions<TRouter>;

export interface TrpcHttpOptions<TRouter extends AnyTRPCRouter> {
  router: TRouter;
  /** Where the procedures are mounted, e.g. `/trpc`. */
  endpoint: string;
  /** As for tRPC's standalone adapter: the Node request and response, and tRPC's request info. */
  createContext: (
    options: CreateHTTPContextOptions,
  ) => Promise<Awaited<ReturnType<NonNullable<FetchOptions<TRouter>['createContext']>>>>;
  maxBatchSize?: number;
  /** False refuses batched calls (a streamed body carries one call). */
  allowBatching?: boolean;
  /** Bytes of request body read at most; tRPC answers 413 past it, counting as they arrive. */
  maxBodySize: number;
  responseMeta?: FetchOptions<TRouter>['responseMeta'];
  /**
   * Whether queries and mutations with JSON input skip tRPC's fetch adapter (see direct.ts); on
   * unless a test compares the two paths.
   */
  directCalls?: boolean;
  /** Called with the Node request (not tRPC's fetch Request), as the standalone adapter does. */
  onError?: (
    options: Omit<Parameters<NonNullable<FetchOptions<TRouter>['onError']>>[0], 'req'> & { req: IncomingMessage },
  ) => void;
}

/**
 * tRPC over node:http, writing a complete JSON answer with one socket write.
 *
 * tRPC's standalone adapter pipes every response body through a WHATWG stream into `res.write()`
 * and then calls `res.end()`: a chunked response, two socket writes per call (the body, then the
 * terminating chunk) and a dozen promise hops on the way. On the API benchmark's history page
 * those writes (`writev`) were a third of the API process's busy time. Here tRPC resolves the
 * call exactly as its adapters do (fetchRequestHandler: same batching, errors, responseMeta and
 * body limit), and an answer that is already whole (`application/json`, not chunked) leaves as
 * one `res.end(body)` with its Content-Length. Answers that stream (Server-Sent Events for
 * subscriptions, `application/jsonl` batches) are still written chunk by chunk as they come.
 */
export function createTrpcHttpHandler<TRouter extends AnyTRPCRouter>(
  options: TrpcHttpOptions<TRouter>,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { router, endpoint, createContext, maxBatchSize, allowBatching, maxBodySize, responseMeta, onError } = options;
  const direct = options.directCalls === false ? null : createDirectCalls(options);
  return async (req, res) => {
    if (direct !== null && (await direct(req, res))) return;
    const request = incomingMessageToRequest(req, res, { maxBodySize });
    const response = await fetchRequestHandler<TRouter>({
      router,
      endpoint,
      req: request,
      ...(maxBatchSize === undefined ? {} : { maxBatchSize }),
      ...(allowBatching === undefined ? {} : { allowBatching }),
      ...(responseMeta === undefined ? {} : { responseMeta }),
      createContext: ({ info }) => createContext({ req, res, info }),
      onError:
        onError === undefined ? undefined : (error) => onError({ ...error, req } as Parameters<typeof onError>[0]),
    } as FetchOptions<TRouter>);
    res.statusCode = response.status;
    for (const [name, value] of response.headers) {
      if (name !== 'set-cookie') res.setHeader(name, value);
    }
    const cookies = response.headers.getSetCookie();
    if (cookies.length > 0) res.setHeader('set-cookie', cookies);
    if (response.body === null) {
      res.end();
      return;
    }
    if (isWhole(response)) {
      const body = Buffer.from(await response.arrayBuffer());
      res.setHeader('content-length', body.length);
      res.end(body);
      return;
    }
    await pipe(response.body, res, request.signal);
  };
}

/** A plain JSON answer, complete once resolved; not an SSE stream or a jsonl batch. */
function isWhole(response: Response): boolean {
  return response.headers.get('content-type') === 'application/json' && !response.headers.has('transfer-encoding');
}

/** Writes a streaming body as it comes, waiting for the socket to drain; ends the response. */
async function pipe(body: ReadableStream<Uint8Array>, res: ServerResponse, signal: AbortSignal): Promise<void> {
  try {
    await body.pipeTo(
      new WritableStream({
        async write(chunk) {
          if (!res.write(chunk)) await drained(res);
        },
      }),
      { signal },
    );
  } catch (error) {
    // The client went away (the request's signal aborted): nothing more to write.
    if (!signal.aborted) throw error;
  } finally {
    res.end();
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      res.off('error', failed);
      resolve();
    };
    const failed = (error: Error) => {
      done();
      reject(error);
    };
    res.once('drain', done);
    res.once('close', done);
    res.once('error', failed);
  });
}
