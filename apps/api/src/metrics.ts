import type { MikroORM } from '@threadstore/db';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The API's Prometheus metrics, one set per server (tests run several servers in one process, and
 * prom-client refuses a metric name registered twice in one registry). Procedures reach them as
 * `ctx.metrics`; a subscription counts itself with `ctx.metrics.openSubscriptions.inc()` when it
 * starts and `.dec()` when it ends (see `trackSubscription`).
 * @see https://github.com/siimon/prom-client
 */
export interface ApiMetrics {
  registry: Registry;
  /** Calls per procedure, type and outcome code (`OK`, or the tRPC error code). */
  calls: Counter<'procedure' | 'type' | 'code'>;
  callSeconds: Histogram<'procedure' | 'type' | 'code'>;
  /** HTTP requests being served right now (any path). */
  inFlight: Gauge;
  openSubscriptions: Gauge<'procedure'>;
  /** Calls refused by a rate limit, by which budget ran out (`principal` or `address`). */
  rateLimited: Counter<'budget'>;
}

export function createApiMetrics({
  orm,
  processMetrics = true,
}: {
  /** Whose connection pool to report (use and waits); omitted in tests that do not care. */
  orm?: MikroORM;
  /** Node's default process metrics (CPU, memory, event loop lag, GC). */
  processMetrics?: boolean;
} = {}): ApiMetrics {
  const registry = new Registry();
  if (processMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const metrics: ApiMetrics = {
    registry,
    calls: new Counter({
      name: 'threadstore_api_calls_total',
      help: 'Procedure calls by procedure, type and outcome code',
      labelNames: ['procedure', 'type', 'code'],
      registers,
    }),
    callSeconds: new Histogram({
      name: 'threadstore_api_call_duration_seconds',
      help: 'Time to answer a procedure call, by procedure, type and outcome code',
      labelNames: ['procedure', 'type', 'code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    inFlight: new Gauge({
      name: 'threadstore_api_requests_in_flight',
      help: 'HTTP requests being served',
      registers,
    }),
    openSubscriptions: new Gauge({
      name: 'threadstore_api_open_subscriptions',
      help: 'Subscriptions (streams) currently open, by procedure',
      labelNames: ['procedure'],
      registers,
    }),
    rateLimited: new Counter({
      name: 'threadstore_api_rate_limited_total',
      help: 'Calls refused by a rate limit, by the budget that ran out',
      labelNames: ['budget'],
      registers,
    }),
  };
  if (orm !== undefined) registerPoolMetrics(registry, orm);
  return metrics;
}

/** Counts a subscription as open until the returned function is called (once). */
export function trackSubscription(metrics: ApiMetrics, procedure: string): () => void {
  metrics.openSubscriptions.inc({ procedure });
  let open = true;
  return () => {
    if (open) metrics.openSubscriptions.dec({ procedure });
    open = false;
  };
}

/**
 * Mutations waiting for one of the write slots (DATABASE_POOL_READ_RESERVE keeps the rest of the
 * pool for reads): above zero for long, writes are waiting on the database's commits (WAL flushes).
 */
export function trackWaitingWrites(metrics: ApiMetrics, share: { readonly waiting: number }): void {
  new Gauge({
    name: 'threadstore_api_writes_waiting',
    help: 'Mutations waiting for a write slot (the pool keeps DATABASE_POOL_READ_RESERVE connections for reads)',
    registers: [metrics.registry],
    collect() {
      this.set(share.waiting);
    },
  });
}

/** Metrics for contexts built without a server (tests, scripts): counted, but never exported. */
export const detachedMetrics: ApiMetrics = createApiMetrics({ processMetrics: false });

/**
 * The ORM's connection pool, read at scrape time: connections open and idle, and callers
 * waiting for one (a pool that keeps callers waiting is the first sign of a probe storm or of
 * slow queries).
 */
function registerPoolMetrics(registry: Registry, orm: MikroORM): void {
  const pool = () => orm.em.getConnection().getNativeClient();
  const gauge = (name: string, help: string, read: (p: Awaited<ReturnType<typeof pool>>) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(read(await pool()));
      },
    });
  gauge('threadstore_db_pool_connections', 'Connections the pool holds open', (p) => p.totalCount);
  gauge('threadstore_db_pool_idle_connections', 'Open connections not in use', (p) => p.idleCount);
  gauge('threadstore_db_pool_waiting_requests', 'Callers waiting for a connection', (p) => p.waitingCount);
  new Gauge({
    name: 'threadstore_db_pool_max_connections',
    help: 'Most connections the pool may open (DATABASE_POOL_MAX)',
    registers: [registry],
    async collect() {
      this.set((await pool()).options.max ?? 0);
    },
  });
}
