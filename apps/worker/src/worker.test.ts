import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { MaintenanceRunSchema } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { createLogger } from '@threadstore/runtime';
import type { PgBoss } from 'pg-boss';
import * as z from 'zod';
import { within } from '@threadstore/runtime/testing';
import { testWorkerConfig, uniqueBossSchema } from '../test/worker-fixture.ts';
import { deadLetterQueueName } from '@threadstore/jobs';
import { defineTestJob } from '../test/define-test-job.ts';
import type { JobContract } from './jobs/contract.ts';
import { REGISTRY_SCHEDULE_KEY, startWorker, type Worker } from './worker.ts';

const logger = createLogger('worker-test', 'silent');
const doNothing = async () => ({ rowsAffected: 0, details: {} });

const nightlyReport = defineTestJob({
  name: 'nightly-report',
  description: 'A scheduled job with tuned retries.',
  payload: z.object({}),
  queue: { retryLimit: 1, expireInSeconds: 600 },
  schedule: { cron: '0 3 * * *' },
  handler: doNothing,
});
const hourlySweep = defineTestJob({
  name: 'hourly-sweep',
  description: 'A scheduled job with the default queue options.',
  payload: z.object({}),
  schedule: { cron: '15 * * * *' },
  handler: doNothing,
});
const jobs = [nightlyReport, hourlySweep];

/** The schedules the registry owns, as pg-boss stores them. */
async function registrySchedules(boss: PgBoss) {
  return (await boss.getSchedules())
    .filter((schedule) => schedule.key === REGISTRY_SCHEDULE_KEY)
    .map(({ name, cron, timezone }) => ({ name, cron, timezone }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

describe('startWorker', () => {
  const testDb = useTestDatabase();

  /** Starts a worker on an existing pg-boss schema, as a later deploy (or a second replica) would. */
  const start = (registry: readonly JobContract[], bossSchema: string, env: Record<string, string> = {}) =>
    startWorker({
      orm: testDb.orm,
      logger,
      jobs: registry,
      config: testWorkerConfig(testDb.db, registry, { PGBOSS_SCHEMA: bossSchema, ...env }),
    });

  it("creates each job's queue with its contract's options, and its dead-letter queue", async () => {
    await using worker = await start(jobs, uniqueBossSchema());

    expect(worker.queues).toEqual(['nightly-report', 'hourly-sweep']);
    const queues = await worker.boss.getQueues([...worker.queues, ...worker.queues.map(deadLetterQueueName)]);
    expect(Object.fromEntries(queues.map((queue) => [queue.name, queue]))).toMatchObject({
      'nightly-report': {
        policy: 'exclusive',
        deadLetter: 'nightly-report.dead',
        retryLimit: 1,
        expireInSeconds: 600,
      },
      'hourly-sweep': { policy: 'exclusive', deadLetter: 'hourly-sweep.dead', retryLimit: 2, expireInSeconds: 900 },
      'nightly-report.dead': { policy: 'standard' },
      'hourly-sweep.dead': { policy: 'standard' },
    });
  });

  it('registers every default schedule in UTC', async () => {
    await using worker = await start(jobs, uniqueBossSchema());

    expect(await registrySchedules(worker.boss)).toEqual([
      { name: 'hourly-sweep', cron: '15 * * * *', timezone: 'UTC' },
      { name: 'nightly-report', cron: '0 3 * * *', timezone: 'UTC' },
    ]);
    expect(worker.schedules).toEqual([
      { job: 'nightly-report', cron: '0 3 * * *', tz: 'UTC' },
      { job: 'hourly-sweep', cron: '15 * * * *', tz: 'UTC' },
    ]);
  });

  it('lets JOB_SCHEDULES replace a cron expression, schedule an on-demand job, or turn a schedule "off"', async () => {
    const onDemand = defineTestJob({
      name: 'on-demand-audit',
      description: 'Has no default schedule.',
      payload: z.object({}),
      handler: doNothing,
    });
    const registry = [...jobs, onDemand];
    const bossSchema = uniqueBossSchema();
    {
      await using _firstDeploy = await start(registry, bossSchema);
    }
    await using worker = await start(registry, bossSchema, {
      JOB_SCHEDULES: JSON.stringify({
        'nightly-report': '30 4 * * *',
        'on-demand-audit': '0 6 * * 0',
        'hourly-sweep': 'off',
      }),
    });

    expect(await registrySchedules(worker.boss)).toEqual([
      { name: 'nightly-report', cron: '30 4 * * *', timezone: 'UTC' },
      { name: 'on-demand-audit', cron: '0 6 * * 0', timezone: 'UTC' },
    ]);
  });

  it('removes the schedule of a job no longer in the registry, and keeps schedules it does not own', async () => {
    const bossSchema = uniqueBossSchema();
    const retired = defineTestJob({
      name: 'retired-cleanup',
      description: 'Scheduled by an older deploy, gone from this one.',
      payload: z.object({}),
      schedule: { cron: '0 5 * * *' },
      handler: doNothing,
    });
    {
      await using olderDeploy = await start([...jobs, retired], bossSchema);
      await olderDeploy.boss.schedule('nightly-report', '0 12 * * *', {}, { tz: 'UTC', key: 'ad-hoc' });
    }
    await using worker = await start(jobs, bossSchema);

    const schedules = (await worker.boss.getSchedules()).map(({ name, key }) => `${name}/${key}`).sort();
    expect(schedules).toEqual(['hourly-sweep/registry', 'nightly-report/ad-hoc', 'nightly-report/registry']);
  });

  it('is idempotent: two workers starting at once on one database, then a restart', async () => {
    const bossSchema = uniqueBossSchema();
    const [first, second] = await Promise.all([start(jobs, bossSchema), start(jobs, bossSchema)]);
    await first.stop();
    await second.stop();
    await using restarted = await start(jobs, bossSchema);

    const names = [...restarted.queues, ...restarted.queues.map(deadLetterQueueName)];
    expect((await restarted.boss.getQueues(names)).map((queue) => queue.name).sort()).toEqual([...names].sort());
    expect(await registrySchedules(restarted.boss)).toHaveLength(2);
  });

  it("applies a changed job's queue options on the next start", async () => {
    const bossSchema = uniqueBossSchema();
    {
      await using _firstDeploy = await start(jobs, bossSchema);
    }
    const retuned = defineTestJob({ ...nightlyReport, queue: { retryLimit: 5, retryDelay: 30, retryBackoff: true } });
    await using worker = await start([retuned, hourlySweep], bossSchema);

    expect(await worker.boss.getQueue('nightly-report')).toMatchObject({
      retryLimit: 5,
      retryDelay: 30,
      retryBackoff: true,
      deadLetter: 'nightly-report.dead',
    });
  });

  it("refuses to start when a job asks for a different policy than its existing queue's", async () => {
    const bossSchema = uniqueBossSchema();
    {
      await using _firstDeploy = await start(jobs, bossSchema);
    }
    const repoliced = defineTestJob({ ...nightlyReport, queue: { policy: 'singleton' } });

    await expect(start([repoliced, hourlySweep], bossSchema)).rejects.toThrow(
      /queue "nightly-report" exists with policy "exclusive" but the job now asks for "singleton"/,
    );
  });

  it('refuses a registry with two jobs of one name', async () => {
    await expect(start([nightlyReport, nightlyReport], uniqueBossSchema())).rejects.toThrow(
      /two jobs in the registry are named "nightly-report"/,
    );
  });

  it('stops gracefully: a job still running at the drain deadline is failed for a retry and recorded aborted', async () => {
    const started = Promise.withResolvers<void>();
    const longHaul = defineTestJob({
      name: 'long-haul',
      description: 'Runs until its signal is aborted, then takes a while to finish the batch in hand.',
      payload: z.object({}),
      handler: async ({ signal }) => {
        started.resolve();
        await once(signal, 'abort');
        // Outlasts pg-boss's own shutdown, so only a stop() that waits for the run sees it recorded.
        await once(worker.boss, 'stopped');
        return { rowsAffected: 7, details: { stoppedEarly: true } };
      },
    });
    const bossSchema = uniqueBossSchema();
    // Its own ORM, closed right after stop() as main.ts does: a receipt not yet written is lost.
    const workerOrm = await testDb.db.createOrm();
    const worker: Worker = await startWorker({
      orm: workerOrm,
      logger,
      jobs: [longHaul],
      config: testWorkerConfig(testDb.db, [longHaul], { PGBOSS_SCHEMA: bossSchema, SHUTDOWN_TIMEOUT_MS: '1000' }),
    });
    let id: string | null | undefined;
    try {
      id = await worker.boss.send('long-haul', {});
      await within(started.promise, 15_000, 'long-haul to start');
    } finally {
      await worker.stop();
      await workerOrm.close();
    }

    expect(await testDb.orm.em.fork().find(MaintenanceRunSchema, { queueJobId: id! })).toMatchObject([
      { outcome: 'aborted', rowsAffected: 7, error: 'the worker shut down while it was running' },
    ]);
    const [job] = await testDb.orm.em
      .getConnection()
      .execute<{ state: string }[]>(`select state from ${bossSchema}.job where id = ?`, [id]);
    expect(job).toEqual({ state: 'retry' });
  });
});
