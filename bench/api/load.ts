import { Agent, request } from 'node:http';

export interface HttpRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  port: number;
  /**
   * Closed loop: this many clients, each on its own keep-alive connection, each waiting for its
   * answer before sending again. With `ratePerSecond`: the most requests in flight at once.
   */
  concurrency: number;
  /**
   * Open loop: send at this fixed rate whatever the server does, and time each request from
   * when it was due, not from when a free connection sent it (so a stall shows in the tail
   * instead of silently slowing the generator down: no coordinated omission).
   */
  ratePerSecond?: number;
  /** The next request of client `client` (0-based; for the open loop, the request's number). */
  next: (client: number) => HttpRequest;
  /** Unmeasured traffic first (JIT, pool connections, caches), drained before measuring starts. */
  warmup: Budget;
  measure: Budget;
  /** Runs between the drained warmup and the measured phase (a memory reading). */
  afterWarmup?: () => Promise<void>;
}

/**
 * How long a phase lasts: a wall-clock time, a number of requests over all clients, or until a
 * signal is aborted (to measure exactly while something else runs).
 */
export type Budget = { ms: number } | { requests: number } | { until: AbortSignal };

export interface LoadResult {
  /** Completed requests in the measured phase, failed ones included. */
  requests: number;
  elapsedMs: number;
  /** Requests answered 2xx per second of the measured phase. */
  throughput: number;
  non2xx: number;
  socketErrors: number;
  /** Sorted, one per request, in milliseconds. */
  latenciesMs: Float64Array;
  /** The first failure, to tell a broken route from a slow one. */
  firstError: string | null;
}

/**
 * The load generator. Unlike autocannon, whose histogram has whole-millisecond buckets, it keeps
 * every request's latency as a float, so sub-millisecond differences (a deep page against the
 * first page) stay visible. The closed loop measures capacity; its tail is queueing at
 * saturation, the same for the API and the baseline. The open loop measures latency at a given load.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  try {
    await runPhase(agent, options, options.warmup);
    await options.afterWarmup?.();
    return await runPhase(agent, options, options.measure);
  } finally {
    agent.destroy();
  }
}

async function runPhase(agent: Agent, options: LoadOptions, budget: Budget): Promise<LoadResult> {
  const latencies: number[] = [];
  let non2xx = 0;
  let socketErrors = 0;
  let firstError: string | null = null;
  let issued = 0;
  const started = performance.now();
  const deadline = 'ms' in budget ? started + budget.ms : Infinity;
  const maxRequests = 'requests' in budget ? budget.requests : Infinity;
  const stopped = () => 'until' in budget && budget.until.aborted;

  const one = async (spec: HttpRequest, due: number) => {
    try {
      const { status, body } = await send(agent, options.port, spec);
      if (status < 200 || status > 299) {
        non2xx += 1;
        firstError ??= `HTTP ${status} ${spec.method} ${spec.path.split('?', 1)[0]}: ${body.slice(0, 500)}`;
      }
    } catch (error) {
      socketErrors += 1;
      firstError ??= `socket error ${spec.method} ${spec.path.split('?', 1)[0]}: ${String(error)}`;
    }
    latencies.push(performance.now() - due);
  };

  const { ratePerSecond } = options;
  if (ratePerSecond === undefined) {
    const client = async (index: number) => {
      while (issued < maxRequests && performance.now() < deadline && !stopped()) {
        issued += 1;
        await one(options.next(index), performance.now());
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, (_, index) => client(index)));
  } else {
    const inFlight = new Set<Promise<void>>();
    for (;;) {
      const due = started + (issued * 1000) / ratePerSecond;
      if (due >= deadline || issued >= maxRequests || stopped()) break;
      // Timers fire late by a millisecond or so; requests that fell due meanwhile go out at once.
      if (due - performance.now() > 1) await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
      const request = one(options.next(issued), due).finally(() => inFlight.delete(request));
      inFlight.add(request);
      issued += 1;
    }
    await Promise.all(inFlight);
  }

  const elapsedMs = performance.now() - started;
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: sorted.length,
    elapsedMs,
    throughput: ((sorted.length - non2xx - socketErrors) * 1000) / elapsedMs,
    non2xx,
    socketErrors,
    latenciesMs: sorted,
    firstError,
  };
}

export function send(agent: Agent, port: number, spec: HttpRequest): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers =
      spec.body === undefined ? spec.headers : { ...spec.headers, 'content-length': `${Buffer.byteLength(spec.body)}` };
    const req = request({ agent, host: '127.0.0.1', port, method: spec.method, path: spec.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(spec.body);
  });
}

/** Nearest-rank percentile of sorted samples. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i += 1) sum += values[i]!;
  return values.length === 0 ? Number.NaN : sum / values.length;
}
