import type { AppRouter } from '@threadstore/api';
import type { TImportMessageLine, TImportMessagesOutput } from '@threadstore/contract';
import {
  createTRPCClient,
  httpBatchLink,
  httpLink,
  httpSubscriptionLink,
  isNonJsonSerializable,
  splitLink,
  TRPCClientError,
  type TRPCClient,
} from '@trpc/client';

/** Who the client calls as, sent as `Authorization: Bearer`, `X-Api-Key` or `X-Session-ID`. */
export type ThreadstoreAuth =
  /**
   * A signed-in user's JWT, or a function returning the current one: it is asked before every
   * request, so a refreshed token is used at once.
   */
  | { token: string | (() => string | Promise<string>) }
  /** An agent backend's API key. */
  | { apiKey: string }
  /** An anonymous visitor's id: a UUID the browser generates once and keeps (`rememberedAnonymousId`). */
  | { anonymousId: string };

export type HeaderValues = Record<string, string>;

export interface ThreadstoreClientOptions {
  /** The API's tRPC endpoint, e.g. `https://threadstore.example.com/trpc`. */
  url: string | URL;
  /** Omit to call only what needs no principal (`health.check`, signing in). */
  auth?: ThreadstoreAuth;
  /** Extra headers for every request; `() => ({ 'x-request-id': crypto.randomUUID() })` traces each one. */
  headers?: HeaderValues | (() => HeaderValues | Promise<HeaderValues>);
  /** Defaults to the global `fetch` (browsers, Node 18+). */
  fetch?: typeof fetch;
  /**
   * For subscriptions (`chat.stream`, `sessions.watch`, `sessions.watchList`), which travel as
   * Server-Sent Events. Browsers have one; in Node pass one, e.g. `EventSource` from the
   * `eventsource` package.
   */
  EventSource?: EventSourceConstructor;
}

/** An EventSource class: the browser's, Node's, or a package's (their typings differ in details). */
export type EventSourceConstructor = new (
  url: string,
  init?: { withCredentials?: boolean },
) => {
  readonly CLOSED: number;
  readonly CONNECTING: number;
  readonly OPEN: number;
  readyState: number;
  close(): void;
  // Each implementation types its events its own way; the link only hands them back to itself.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  addEventListener(type: string, listener: (event: any) => void): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  removeEventListener(type: string, listener: (event: any) => void): void;
};

export type ThreadstoreClient = TRPCClient<AppRouter>;

/**
 * What a failed call rejects with: `error.data.code` is the tRPC code, `error.data.details` what a
 * refusal is about. `error.data` is undefined when no tRPC answer came (network down, timeout, a
 * proxy’s error page).
 */
export type ThreadstoreClientError = TRPCClientError<AppRouter>;

// Batched queries travel in the URL. Common proxies refuse request lines past 8 KiB (414) and
// Node all headers past 16 KiB (431), before tRPC could answer, so longer batches are split.
const MAX_URL_LENGTH = 4_000;

/**
 * The typed Threadstore client: every procedure of the API, with inputs and outputs checked
 * by TypeScript. Calls made in the same tick share one HTTP request.
 */
export function createThreadstoreClient({
  url,
  auth,
  headers,
  fetch,
  EventSource = globalThis.EventSource as EventSourceConstructor | undefined,
}: ThreadstoreClientOptions): ThreadstoreClient {
  const requestHeaders = async () => {
    // Header names are case-insensitive: Headers folds them, so a differently spelled extra
    // header cannot sit beside the credentials and be sent as a second value.
    const merged = new Headers(typeof headers === 'function' ? await headers() : headers);
    if (auth !== undefined) {
      for (const [name, value] of Object.entries(await authHeaders(auth))) merged.set(name, value);
    }
    return Object.fromEntries(merged);
  };
  const batchLink = httpBatchLink<AppRouter>({ url, fetch, maxURLLength: MAX_URL_LENGTH, headers: requestHeaders });
  // A Blob or bytes (messages.import's NDJSON) cannot ride in a JSON batch: tRPC sends it alone,
  // as application/octet-stream.
  const binaryLink = httpLink<AppRouter>({ url, fetch, headers: requestHeaders });
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        // An EventSource cannot send headers: the credentials travel as tRPC connection params,
        // asked for at every (re)connection, so a refreshed token is used. A reconnecting stream
        // sends its last event id and resumes where it stopped.
        true: httpSubscriptionLink<AppRouter, EventSourceConstructor>({
          url: String(url),
          EventSource: EventSource ?? missingEventSource(),
          connectionParams: async () => (auth === undefined ? {} : await authHeaders(auth)),
        }),
        false: splitLink({ condition: (op) => isNonJsonSerializable(op.input), true: binaryLink, false: batchLink }),
      }),
    ],
  });
}

/** Stands in where there is no EventSource (Node without one passed): subscribing says what to do. */
function missingEventSource(): EventSourceConstructor {
  return class {
    readonly CLOSED = 2;
    readonly CONNECTING = 0;
    readonly OPEN = 1;
    readyState = 2;
    close(): void {}
    addEventListener(): void {}
    removeEventListener(): void {}
    constructor() {
      throw new Error(
        'subscriptions need an EventSource: pass createThreadstoreClient({ EventSource }) (Node: the `eventsource` package)',
      );
    }
  };
}

async function authHeaders(auth: ThreadstoreAuth): Promise<HeaderValues> {
  if ('token' in auth) {
    const token = typeof auth.token === 'function' ? await auth.token() : auth.token;
    return { authorization: `Bearer ${token}` };
  }
  if ('apiKey' in auth) return { 'x-api-key': auth.apiKey };
  return { 'x-session-id': auth.anonymousId };
}

/** What `importMessages` sends per request at most, in bytes: half the server's default LIMIT_MAX_IMPORT_BYTES. */
export const IMPORT_REQUEST_BYTES = 32 * 1024 * 1024;

/**
 * Imports `lines` (any number, from an array or an async source such as a file being read)
 * with `messages.import`, as NDJSON requests of at most `requestBytes` each, one after another.
 * Each request is all or nothing; a failed one rejects with its error (naming its line within
 * that request) and `imported` says how many requests had succeeded, so the caller can start
 * again from there, or from the beginning: every line carries its key, so lines already stored
 * come back `unchanged` and nothing is doubled.
 */
export async function importMessages(
  client: ThreadstoreClient,
  lines: Iterable<TImportMessageLine> | AsyncIterable<TImportMessageLine>,
  { requestBytes = IMPORT_REQUEST_BYTES }: { requestBytes?: number } = {},
): Promise<{ requests: TImportMessagesOutput[]; imported: number; unchanged: number }> {
  const requests: TImportMessagesOutput[] = [];
  const encoder = new TextEncoder();
  let parts: Uint8Array[] = [];
  let bytes = 0;
  const send = async () => {
    if (parts.length === 0) return;
    const body = new Blob(parts as BlobPart[], { type: 'application/octet-stream' });
    parts = [];
    bytes = 0;
    requests.push(await client.messages.import.mutate(body));
  };
  for await (const line of lines) {
    const encoded = encoder.encode(`${JSON.stringify(line)}\n`);
    if (bytes + encoded.length > requestBytes) await send();
    parts.push(encoded);
    bytes += encoded.length;
  }
  await send();
  return {
    requests,
    imported: requests.reduce((sum, receipt) => sum + receipt.imported, 0),
    unchanged: requests.reduce((sum, receipt) => sum + receipt.unchanged, 0),
  };
}

/** Narrows a caught value to a failed Threadstore call, so `error.data?.code` is typed. */
export function isThreadstoreClientError(error: unknown): error is ThreadstoreClientError {
  return error instanceof TRPCClientError;
}
