import cluster, { type Worker } from 'node:cluster';
import { onShutdown, type Logger } from '@threadstore/runtime';
import { AggregatorRegistry } from 'prom-client';
import { RateLimiterClusterMaster } from 'rate-limiter-flexible';
import { isMetricsRequest, SHUTDOWN_MESSAGE, type MetricsReply } from './messages.ts';

export interface ClusterOptions {
  /** API workers to keep running (API_WORKERS). */
  workers: number;
  /** API_HOST, for the "listening" line. */
  host: string;
  logger: Logger;
  /** The workers' own SHUTDOWN_TIMEOUT_MS; the primary waits a little longer for them. */
  shutdownTimeoutMs: number;
  /** First wait before replacing a crashed worker; doubles while crashes follow each other. */
  restartDelayMs?: number;
}

const MAX_RESTART_DELAY_MS = 30_000;
// A worker that served this long before crashing resets the backoff: the next crash is news.
const STABLE_AFTER_MS = 60_000;
// The primary outwaits its workers' own shutdown timeout by this much before killing them.
const SHUTDOWN_MARGIN_MS = 2_000;

/**
 * The primary of an API cluster (API_WORKERS > 1): forks the workers, which each run the whole
 * API (its own ORM, pool, change feed) on one shared port, the primary handing out connections
 * round-robin (node:cluster's default on Linux). It serves no request itself. It
 *
 * - logs "listening" once every worker listens (workers log "worker listening"), so a
 *   supervisor that waits for that line sees the whole cluster up;
 * - replaces a worker that dies, after a backoff (1 s, doubling up to 30 s while crashes follow
 *   each other); but a worker that dies before the cluster ever came up (a database without the
 *   migrations, say) stops the cluster with that worker's exit code, since another would die the
 *   same way;
 * - on SIGTERM/SIGINT tells every worker to stop (an IPC message, so a worker that also got the
 *   signal from its process group does not take it as a second, hurried one), waits for them and
 *   exits 0, or 1 when one failed to stop cleanly;
 * - answers a worker's request for /metrics with every worker's metrics added up (prom-client's
 *   AggregatorRegistry), so a scrape counts the whole cluster whichever worker it reaches;
 * - keeps the in-memory rate-limit counts the workers share (rate-limiter-flexible's
 *   RateLimiterClusterMaster; see createClusterRateLimiter).
 */
export function runApiCluster({
  workers,
  host,
  logger,
  shutdownTimeoutMs,
  restartDelayMs = 1_000,
}: ClusterOptions): void {
  new RateLimiterClusterMaster();
  const aggregator = new AggregatorRegistry();
  const listened = new WeakSet<Worker>();
  const startedAt = new WeakMap<Worker, number>();
  let announced = false;
  let stopping = false;
  let restartDelay = restartDelayMs;

  const fork = () => {
    const worker = cluster.fork();
    startedAt.set(worker, Date.now());
  };

  cluster.on('listening', (worker, address) => {
    listened.add(worker);
    const live = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && listened.has(w));
    if (announced) {
      logger.info({ workerPid: worker.process.pid }, 'API worker replaced');
      return;
    }
    if (live.length < workers) return;
    announced = true;
    logger.info({ host, port: address.port, workers, workerPids: live.map((w) => w.process.pid) }, 'listening');
  });

  cluster.on('message', (worker, message: unknown) => {
    if (!isMetricsRequest(message)) return;
    const reply = (answer: MetricsReply) => {
      if (worker.isConnected()) worker.send(answer);
    };
    aggregator.clusterMetrics().then(
      (text) => reply({ type: 'threadstore:metrics-reply', id: message.id, text, contentType: aggregator.contentType }),
      (error: unknown) =>
        reply({ type: 'threadstore:metrics-reply', id: message.id, error: String((error as Error).message ?? error) }),
    );
  });

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    const fields = { workerPid: worker.process.pid, code, signal };
    if (!listened.has(worker) && !announced) {
      // The cluster never came up: the cause (configuration, schema, database) is the same for
      // every worker. A replacement that fails later (the database down a while) is retried
      // with the backoff below instead, beside the workers still serving.
      logger.fatal(fields, 'an API worker failed to start; stopping the cluster');
      void stopAll().finally(() => process.exit(code === 0 || code === null ? 1 : code));
      return;
    }
    const served = Date.now() - (startedAt.get(worker) ?? 0);
    if (served >= STABLE_AFTER_MS) restartDelay = restartDelayMs;
    logger.error({ ...fields, restartInMs: restartDelay }, 'an API worker exited; starting another');
    setTimeout(() => {
      if (!stopping) fork();
    }, restartDelay).unref();
    restartDelay = Math.min(restartDelay * 2, MAX_RESTART_DELAY_MS);
  });

  /** Asks every worker to stop and waits for them; true when all of them exited 0. */
  const stopAll = async (): Promise<boolean> => {
    stopping = true;
    const running = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    const codes = await Promise.all(
      running.map(
        (worker) =>
          new Promise<number | null>((resolve) => {
            if (worker.process.exitCode !== null || worker.process.signalCode !== null) {
              resolve(worker.process.exitCode);
              return;
            }
            worker.process.once('exit', (code) => resolve(code));
            // One still starting has no handler for the message yet: a signal stops it either way.
            if (listened.has(worker) && worker.isConnected()) worker.send(SHUTDOWN_MESSAGE);
            else worker.process.kill('SIGTERM');
          }),
      ),
    );
    return codes.every((code) => code === 0);
  };

  onShutdown(
    async () => {
      if (!(await stopAll())) throw new Error('an API worker did not stop cleanly');
    },
    {
      logger,
      timeoutMs: shutdownTimeoutMs + SHUTDOWN_MARGIN_MS,
      exit: (code) => {
        // Timed out (or a second signal): no worker outlives the primary.
        for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
        process.exit(code);
      },
    },
  );

  for (let i = 0; i < workers; i += 1) fork();
}
