import { randomUUID } from 'node:crypto';
import type { RouterInputs } from '@threadstore/api';
import { bigSessionIndex, ownerId, randomContent, sessionId, type DatasetShape } from './dataset.ts';
import type { Budget, HttpRequest } from './load.ts';

export interface Workload {
  name: string;
  /** Clients of the closed loop; with `ratePerSecond`, the most requests in flight. */
  concurrency: number;
  /** Open loop at this fixed rate (see runLoad). */
  ratePerSecond?: number;
  warmup: Budget;
  measure: Budget;
  /** Messages written or read per request, to turn requests/s into messages/s. */
  messagesPerRequest: number;
  next: (client: number) => HttpRequest;
}

type AppendInput = RouterInputs['messages']['append'];
type AppendManyInput = RouterInputs['messages']['appendMany'];
type HistoryInput = RouterInputs['messages']['history'];

const randomSession = (shape: DatasetShape) => Math.floor(Math.random() * shape.sessions);

const headersOf = (session: number) => ({ 'x-session-id': ownerId(session), 'content-type': 'application/json' });

/** A user's message with an idempotency key, as a frontend that retries safely sends it. */
export function appendRequest(shape: DatasetShape, corpus: string): HttpRequest {
  const session = randomSession(shape);
  const input: AppendInput = {
    sessionId: sessionId(session),
    role: 'user',
    content: randomContent(corpus),
    clientMessageId: randomUUID(),
  };
  return { method: 'POST', path: '/trpc/messages.append', headers: headersOf(session), body: JSON.stringify(input) };
}

export function historyRequest(session: number, input: Omit<HistoryInput, 'sessionId'> = {}): HttpRequest {
  const full: HistoryInput = { sessionId: sessionId(session), ...input };
  return {
    method: 'GET',
    path: `/trpc/messages.history?input=${encodeURIComponent(JSON.stringify(full))}`,
    headers: headersOf(session),
  };
}

/** The first page of a visitor's session list, as the chat page loads it. */
export function listRequest(session: number): HttpRequest {
  const input: RouterInputs['sessions']['list'] = { limit: 20 };
  return {
    method: 'GET',
    path: `/trpc/sessions.list?input=${encodeURIComponent(JSON.stringify(input))}`,
    headers: headersOf(session),
  };
}

/** An import of an agent trace: a whole batch for one session, alternating user and assistant. */
export function appendManyRequest(shape: DatasetShape, corpus: string, batchSize: number): HttpRequest {
  const session = randomSession(shape);
  const input: AppendManyInput = {
    sessionId: sessionId(session),
    messages: Array.from({ length: batchSize }, (_, index) => ({
      role: index % 2 === 0 ? 'user' : 'assistant',
      content: randomContent(corpus),
      clientMessageId: randomUUID(),
    })),
  };
  return {
    method: 'POST',
    path: '/trpc/messages.appendMany',
    headers: headersOf(session),
    body: JSON.stringify(input),
  };
}

export interface Settings {
  rounds: number;
  /** Measured seconds of each append and history round (after `warmupSeconds`). */
  seconds: number;
  warmupSeconds: number;
  /** Measured seconds of each first-page and deep-page round. */
  pageSeconds: number;
  /** Measured seconds of each fixed-rate round (after `warmupSeconds`). */
  fixedRateSeconds: number;
  bulkBatches: number;
  bulkBatchSize: number;
  memoryRequests: number;
  memoryWarmupRequests: number;
}

export const DEFAULT_SETTINGS: Settings = {
  rounds: 3,
  seconds: 10,
  warmupSeconds: 3,
  pageSeconds: 5,
  fixedRateSeconds: 6,
  bulkBatches: 100,
  bulkBatchSize: 1_000,
  memoryRequests: 200_000,
  memoryWarmupRequests: 10_000,
};

export const QUICK_SETTINGS: Settings = {
  rounds: 1,
  seconds: 2,
  warmupSeconds: 1,
  pageSeconds: 1,
  fixedRateSeconds: 2,
  bulkBatches: 10,
  bulkBatchSize: 1_000,
  memoryRequests: 5_000,
  memoryWarmupRequests: 1_000,
};

/** The share of the API's measured capacity at which the open-loop rounds send. */
export const FIXED_RATE_SHARE = 0.5;

/** Where the deep page starts in the long session: ~199,000 messages back from its latest. */
export const DEEP_BEFORE_SEQ = 1_000;

/**
 * `workload` sent open-loop at `ratePerSecond`; up to 256 requests in flight, far more than a
 * server keeping up needs, so a stall queues requests (and shows in the tail) instead of
 * holding the generator back.
 */
export function atFixedRate(workload: Workload, ratePerSecond: number, settings: Settings): Workload {
  return {
    ...workload,
    name: `${workload.name.split(',', 1)[0]} at a fixed ${Math.round(ratePerSecond)} req/s`,
    concurrency: 256,
    ratePerSecond,
    warmup: { ms: settings.warmupSeconds * 1000 },
    measure: { ms: settings.fixedRateSeconds * 1000 },
  };
}

export function workloads(shape: DatasetShape, corpus: string, settings: Settings) {
  const timed = (concurrency: number, seconds: number, warmupSeconds: number) => ({
    concurrency,
    warmup: { ms: warmupSeconds * 1000 },
    measure: { ms: seconds * 1000 },
  });
  const big = bigSessionIndex(shape);
  return {
    append: {
      name: 'messages.append, 32 clients',
      ...timed(32, settings.seconds, settings.warmupSeconds),
      messagesPerRequest: 1,
      next: () => appendRequest(shape, corpus),
    },
    history: {
      name: 'messages.history last 50, 16 clients',
      ...timed(16, settings.seconds, settings.warmupSeconds),
      messagesPerRequest: 50,
      next: () => historyRequest(randomSession(shape), { limit: 50 }),
    },
    list: {
      name: 'sessions.list first page (20), 16 clients',
      ...timed(16, settings.seconds, settings.warmupSeconds),
      messagesPerRequest: 1,
      next: () => listRequest(randomSession(shape)),
    },
    firstPage: {
      name: 'first page (latest 50) of the 200k session, 8 clients',
      ...timed(8, settings.pageSeconds, 1),
      messagesPerRequest: 50,
      next: () => historyRequest(big, { limit: 50 }),
    },
    deepPage: {
      name: `deep page (before seq ${DEEP_BEFORE_SEQ}) of the 200k session, 8 clients`,
      ...timed(8, settings.pageSeconds, 1),
      messagesPerRequest: 50,
      next: () => historyRequest(big, { limit: 50, before: DEEP_BEFORE_SEQ }),
    },
    bulk: {
      name: `messages.appendMany, batches of ${settings.bulkBatchSize}, 4 clients`,
      concurrency: 4,
      warmup: { requests: 8 },
      measure: { requests: settings.bulkBatches },
      messagesPerRequest: settings.bulkBatchSize,
      next: () => appendManyRequest(shape, corpus, settings.bulkBatchSize),
    },
    mixed: {
      name: 'half append, half last-50 history, 16 clients',
      concurrency: 16,
      warmup: { requests: settings.memoryWarmupRequests },
      measure: { requests: settings.memoryRequests },
      messagesPerRequest: 1,
      next: (client: number) =>
        client % 2 === 0 ? appendRequest(shape, corpus) : historyRequest(randomSession(shape), { limit: 50 }),
    },
  } satisfies Record<string, Workload>;
}
