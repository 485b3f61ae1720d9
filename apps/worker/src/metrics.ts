import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MikroORM } from '@threadstore/db';
import type { Logger } from '@threadstore/runtime';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The worker's Prometheus metrics: what its runs did (counted by the runner as they finish) and
 * what waits in the queues (read from pg-boss's job table at scrape time, so every worker
 * reports the same queue figures whichever ran the jobs).
 * @see https://github.com/siimon/prom-client
 */
export interface WorkerMetrics {
  registry: Registry;
  runs: Counter<'job' | 'outcome'>;
  runSeconds: Histogram<'job' | 'outcome'>;
  rowsAffected: Counter<'job'>;
}

/** A run's end, as the runner reports it. */
export interface RunObservation {
  job: string;
  outcome: string;
  elapsedMs: number;
  rowsAffected: number | undefined;
}

export function observeRun(metrics: WorkerMetrics | undefined, run: RunObservation): void {
  if (metrics === undefined) return;
  const labels = { job: run.job, outcome: run.outcome };
  metrics.runs.inc(labels);
  metrics.runSeconds.observe(labels, Math.max(run.elapsedMs, 0) / 1000);
  if (run.rowsAffected !== undefined) metrics.rowsAffected.inc({ job: run.job }, run.rowsAffected);
}

export function createWorkerMetrics({
  orm,
  pgBossSchema,
  processMetrics = true,
}: {
  orm: MikroORM;
  /** PGBOSS_SCHEMA, validated as a plain lower-case identifier, so it can be named in SQL. */
  pgBossSchema: string;
  processMetrics?: boolean;
}): WorkerMetrics {
  const registry = new Registry();
  if (processMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const metrics: WorkerMetrics = {
    registry,
    runs: new Counter({
      name: 'threadstore_job_runs_total',
      help: 'Job runs by job and outcome (succeeded, failed, aborted)',
      labelNames: ['job', 'outcome'],
      registers,
    }),
    runSeconds: new Histogram({
      name: 'threadstore_job_run_duration_seconds',
      help: 'Duration of job runs by job and outcome',
      labelNames: ['job', 'outcome'],
      buckets: [0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
      registers,
    }),
    rowsAffected: new Counter({
      name: 'threadstore_job_rows_affected_total',
      help: 'Rows the runs of each job deleted, updated or wrote',
      labelNames: ['job'],
      registers,
    }),
  };

  // One query per scrape feeds the three queue gauges; each gauge's collect() awaits the same one.
  let scrape: { at: number; rows: Promise<QueueRow[]> } | undefined;
  const queueRows = () => {
    if (scrape === undefined || performance.now() - scrape.at > 500) {
      scrape = { at: performance.now(), rows: readQueues(orm, pgBossSchema) };
    }
    return scrape.rows;
  };
  new Gauge({
    name: 'threadstore_queue_jobs',
    help: 'Jobs in each queue by state (created and retry are waiting, active are running)',
    labelNames: ['queue', 'state'],
    registers,
    async collect() {
      this.reset();
      for (const row of await queueRows()) {
        for (const state of ['created', 'retry', 'active'] as const) {
          this.set({ queue: row.name, state }, Number(row[state]));
        }
      }
    },
  });
  new Gauge({
    name: 'threadstore_queue_oldest_waiting_seconds',
    help: 'Age of the oldest job waiting in each queue (0 when none waits)',
    labelNames: ['queue'],
    registers,
    async collect() {
      this.reset();
      for (const row of await queueRows()) this.set({ queue: row.name }, Number(row.oldest_waiting_seconds ?? 0));
    },
  });
  new Gauge({
    name: 'threadstore_dead_letter_jobs',
    help: 'Jobs parked in each job’s dead-letter queue (<job>.dead) after failing every retry',
    labelNames: ['job'],
    registers,
    async collect() {
      this.reset();
      for (const row of await queueRows()) {
        if (row.name.endsWith('.dead')) this.set({ job: row.name.slice(0, -'.dead'.length) }, Number(row.created));
      }
    },
  });
  return metrics;
}

interface QueueRow {
  name: string;
  created: string;
  retry: string;
  active: string;
  oldest_waiting_seconds: string | null;
}

/**
 * Counts per queue and state from pg-boss's job table, plus the oldest waiting job's age. Every
 * queue appears, even an empty one (left join from the queue table), so dashboards show zeros
 * rather than gaps. Finished jobs (completed, cancelled, failed) are not read: the partial
 * indexes pg-boss keeps on state make this cheap even with a long history.
 */
async function readQueues(orm: MikroORM, schema: string): Promise<QueueRow[]> {
  return orm.em.getConnection().execute<QueueRow[]>(
    `select q.name,
            count(j.id) filter (where j.state = 'created') as created,
            count(j.id) filter (where j.state = 'retry') as retry,
            count(j.id) filter (where j.state = 'active') as active,
            extract(epoch from now() - min(j.created_on) filter (where j.state in ('created', 'retry'))) as oldest_waiting_seconds
       from "${schema}".queue q
       left join "${schema}".job j on j.name = q.name and j.state in ('created', 'retry', 'active')
      group by q.name`,
  );
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * GET /metrics on its own port (the worker serves nothing else). Failing to bind is logged and
 * the worker goes on without it: metrics are not worth stopping maintenance for.
 */
export async function serveWorkerMetrics(
  metrics: WorkerMetrics,
  { host, port, logger }: { host: string; port: number; logger: Logger },
): Promise<MetricsServer | null> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      return;
    }
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      (error: unknown) => {
        logger.warn({ err: error }, 'could not collect metrics');
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal_error"}');
      },
    );
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    logger.warn({ err: error, host, port }, 'metrics endpoint not started');
    return null;
  }
  const bound = (server.address() as AddressInfo).port;
  logger.info({ host, port: bound }, 'metrics endpoint listening');
  return {
    port: bound,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
