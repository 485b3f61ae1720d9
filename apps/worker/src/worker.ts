import type { MikroORM } from '@threadstore/db';
import { queueConnection, type Logger } from '@threadstore/runtime';
import { PgBoss, type ConstructorOptions } from 'pg-boss';
import type { WorkerConfig } from './env.ts';
import { deadLetterQueueName, resolveSchedules, type JobDefinition, type ScheduledJob } from '@threadstore/jobs';
import type { JobContract } from './jobs/contract.ts';
import { createJobRunner } from './jobs/runner.ts';
import type { WorkerMetrics } from './metrics.ts';
import { startSearchIndexer } from './search-indexer.ts';

/**
 * The `key` on every schedule the worker registers. The pg-boss schema may be shared (the API
 * sends jobs through it), so only schedules carrying this key are the registry's to remove.
 */
export const REGISTRY_SCHEDULE_KEY = 'registry';

/**
 * The share of SHUTDOWN_TIMEOUT_MS kept back from pg-boss's drain for what has to follow it:
 * failing the jobs still running (so they retry now rather than after expireInSeconds), letting
 * their runs record `aborted`, closing both pools. Without it the shutdown watchdog fires first.
 */
const SHUTDOWN_RESERVE_SHARE = 0.2;

export interface StartWorkerOptions {
  orm: MikroORM;
  logger: Logger;
  config: WorkerConfig;
  jobs: readonly JobContract[];
  /** Where runs are counted (served at /metrics by main). */
  metrics?: WorkerMetrics;
  /** Applied last; for tests (`__test__enableSpies`). */
  bossOptions?: Partial<ConstructorOptions>;
}

export interface Worker extends AsyncDisposable {
  boss: PgBoss;
  /** The queues being worked, one per job. */
  queues: string[];
  schedules: ScheduledJob[];
  /** Waits for running jobs (within the shutdown budget) and for their runs to be recorded. */
  stop(): Promise<void>;
}

/**
 * Starts pg-boss on the service database, makes every job's queue and dead-letter queue match its
 * contract, works the queues and brings the registered schedules in line with the registry.
 * Idempotent: any number of workers may start on one database, at once or one after another.
 */
export async function startWorker({
  orm,
  logger,
  config,
  jobs,
  metrics,
  bossOptions = {},
}: StartWorkerOptions): Promise<Worker> {
  assertUniqueNames(jobs);
  const boss = new PgBoss({
    ...queueConnection(config, 'worker'),
    schema: config.PGBOSS_SCHEMA,
    instanceName: 'threadstore-worker',
    ...bossOptions,
  });
  // pg-boss reports failures of its background loops (polling, cron, maintenance) here and keeps
  // going; with no listener an EventEmitter 'error' would crash the process on a transient blip.
  boss.on('error', (error) => logger.error({ err: error, component: 'pg-boss' }, 'pg-boss error'));
  boss.on('warning', ({ message, data }) => logger.warn({ component: 'pg-boss', data }, message));

  const runner = createJobRunner({ orm, logger, ...(metrics ? { metrics } : {}) });
  let schedules: ScheduledJob[];
  try {
    await boss.start();
    for (const job of jobs) await ensureQueues(boss, job);
    for (const job of jobs) {
      // batchSize is 1 (the default), so each call carries exactly one job.
      await boss.work<unknown>(job.name, { pollingIntervalSeconds: config.WORKER_POLL_INTERVAL_SECONDS }, ([pgJob]) =>
        runner.run(job, pgJob!),
      );
    }
    schedules = resolveSchedules(jobs, config.JOB_SCHEDULES);
    await syncSchedules(boss, schedules);
  } catch (error) {
    // Close pg-boss's pool and timers, or the failed start would keep the process alive.
    await boss
      .stop({ graceful: false })
      .catch((stopError: unknown) => logger.warn({ err: stopError }, 'could not stop pg-boss after a failed start'));
    throw error;
  }

  const indexer =
    config.SEARCH_INDEX_INTERVAL_MS > 0
      ? startSearchIndexer({
          orm,
          logger,
          intervalMs: config.SEARCH_INDEX_INTERVAL_MS,
          batchSize: config.SEARCH_INDEX_BATCH_SIZE,
          loops: config.SEARCH_INDEX_LOOPS,
        })
      : undefined;
  const stop = async () => {
    await indexer?.stop();
    await runner.shutDown(() =>
      boss.stop({ graceful: true, timeout: Math.round(config.SHUTDOWN_TIMEOUT_MS * (1 - SHUTDOWN_RESERVE_SHARE)) }),
    );
  };
  return { boss, queues: jobs.map((job) => job.name), schedules, stop, [Symbol.asyncDispose]: stop };
}

function assertUniqueNames(jobs: readonly JobContract[]): void {
  const seen = new Set<string>();
  for (const { name } of jobs) {
    if (seen.has(name)) throw new Error(`two jobs in the registry are named "${name}"`);
    seen.add(name);
  }
}

export async function ensureQueues(boss: PgBoss, job: JobDefinition): Promise<void> {
  const deadLetter = deadLetterQueueName(job.name);
  // `standard`, whatever the job's policy: every job that runs out of retries must land here, and
  // each of the other policies turns some jobs away or holds them back.
  await boss.createQueue(deadLetter, { policy: 'standard' });
  const { policy, ...options } = job.queue;
  await boss.createQueue(job.name, { ...job.queue, deadLetter });
  const existing = await boss.getQueue(job.name);
  if (existing?.policy !== policy) {
    throw new Error(
      `queue "${job.name}" exists with policy "${existing?.policy}" but the job now asks for "${policy}"; ` +
        `pg-boss cannot change a queue's policy, so delete the queue (boss.deleteQueue) once it is empty`,
    );
  }
  // createQueue leaves an existing queue as it is, so without this a deploy that changes a job's
  // retries or expiry would keep running with the values of the deploy that first created it.
  await boss.updateQueue(job.name, { ...options, deadLetter });
}

/**
 * Registers the wanted schedules and removes the registry's others, so a job that was deleted,
 * renamed or turned off by an older deploy does not keep firing. schedule() upserts, so nothing
 * is unscheduled and rescheduled at start, which could fire an occurrence twice (pg-boss #592).
 */
async function syncSchedules(boss: PgBoss, wanted: readonly ScheduledJob[]): Promise<void> {
  const wantedJobs = new Set(wanted.map((schedule) => schedule.job));
  for (const { name, key } of await boss.getSchedules()) {
    if (key === REGISTRY_SCHEDULE_KEY && !wantedJobs.has(name)) await boss.unschedule(name, key);
  }
  for (const { job, cron, tz } of wanted) {
    await boss.schedule(job, cron, {}, { tz, key: REGISTRY_SCHEDULE_KEY });
  }
}
