import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MaintenanceRunSchema, type MikroORM } from '@threadstore/db';
import { createTestDatabase, type TestDatabase } from '@threadstore/db/testing';
import { createLogger } from '@threadstore/runtime';
import type { PgBoss } from 'pg-boss';
import * as z from 'zod';
import { JsonLines, within } from '@threadstore/runtime/testing';
import { testWorkerConfig } from '../../test/worker-fixture.ts';
import { startWorker, type Worker } from '../worker.ts';
import { deadLetterQueueName } from '@threadstore/jobs';
import { defineTestJob } from '../../test/define-test-job.ts';

const tidy = defineTestJob({
  name: 'tidy',
  description: 'Reports what it would delete, from a validated payload.',
  payload: z.object({ days: z.number().int().positive(), dryRun: z.boolean().default(false) }),
  queue: { retryLimit: 0 },
  handler: async ({ payload }) => ({ rowsAffected: 3, details: { days: payload.days, dryRun: payload.dryRun } }),
});

/** Set by the progress test: the handler signals once it has reported, then waits to be released. */
let slowScanGates: { reported: PromiseWithResolvers<void>; release: PromiseWithResolvers<void> };
const slowScan = defineTestJob({
  name: 'slow-scan',
  description: 'Reports progress half-way, then waits for the test to let it finish.',
  payload: z.object({}),
  handler: async ({ reportProgress }) => {
    await reportProgress({ scanned: 500 });
    slowScanGates.reported.resolve();
    await slowScanGates.release.promise;
    return { rowsAffected: 1000, details: { scanned: 1000 } };
  },
});

const broken = defineTestJob({
  name: 'broken',
  description: 'Fails every attempt.',
  payload: z.object({}),
  queue: { retryLimit: 2, retryDelay: 0 },
  handler: async () => {
    throw new Error('disk on fire');
  },
});

const overrun = defineTestJob({
  name: 'overrun',
  description: 'Outlives expireInSeconds, then stops when its signal is aborted.',
  payload: z.object({}),
  queue: { expireInSeconds: 1, retryLimit: 0 },
  handler: async ({ signal, reportProgress }) => {
    await reportProgress({ batches: 1 });
    await once(signal, 'abort');
    return { rowsAffected: 1, details: { batches: 1, stoppedEarly: true } };
  },
});

const jobs = [tidy, slowScan, broken, overrun];

describe('running jobs', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let worker: Worker;
  let boss: PgBoss;
  const logStream = new PassThrough();
  const logs = new JsonLines(logStream);

  beforeAll(async () => {
    db = await createTestDatabase(inject('testPostgres'));
    orm = await db.createOrm();
    worker = await startWorker({
      orm,
      logger: createLogger('worker-test', 'info', logStream),
      config: testWorkerConfig(db, jobs),
      jobs,
      bossOptions: { __test__enableSpies: true },
    });
    boss = worker.boss;
    // A spy records only what happens after it exists.
    for (const job of jobs) boss.getSpy(job.name);
  });
  afterAll(async () => {
    await worker?.stop();
    await orm?.close();
    await db?.drop();
  });

  async function send(job: string, data: object): Promise<string> {
    const id = await boss.send(job, data);
    if (!id) throw new Error(`pg-boss refused to queue ${job}`);
    return id;
  }

  const settledAs = (job: string, id: string, state: 'completed' | 'failed') =>
    within(boss.getSpy(job).waitForJobWithId(id, state), 15_000, `${job} ${id} to be ${state}`);

  const receipts = (queueJobId: string) =>
    orm.em.fork().find(MaintenanceRunSchema, { queueJobId }, { orderBy: { startedAt: 'asc' } });

  it("runs a sent job once and records it succeeded, its result becoming the job's output", async () => {
    const id = await send('tidy', { days: 30, dryRun: true });

    const job = await settledAs('tidy', id, 'completed');
    expect(job.output).toEqual({ rowsAffected: 3, details: { days: 30, dryRun: true } });
    const runs = await receipts(id);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      job: 'tidy',
      outcome: 'succeeded',
      dryRun: true,
      rowsAffected: 3,
      details: { days: 30, dryRun: true },
      error: null,
    });
    expect(runs[0]!.finishedAt!.getTime()).toBeGreaterThanOrEqual(runs[0]!.startedAt.getTime());
  });

  it('shows progress reported mid-run in the receipt while the handler is still running', async () => {
    slowScanGates = { reported: Promise.withResolvers(), release: Promise.withResolvers() };
    const id = await send('slow-scan', {});
    try {
      await within(slowScanGates.reported.promise, 15_000, 'slow-scan to report progress');
      expect(await receipts(id)).toMatchObject([{ outcome: 'running', details: { scanned: 500 }, finishedAt: null }]);
    } finally {
      slowScanGates.release.resolve();
    }

    await settledAs('slow-scan', id, 'completed');
    expect(await receipts(id)).toMatchObject([
      { outcome: 'succeeded', rowsAffected: 1000, details: { scanned: 1000 } },
    ]);
  });

  it('records every failed attempt with its error, retries up to retryLimit, then dead-letters the job', async () => {
    const id = await send('broken', {});

    const job = await settledAs('broken', id, 'failed');
    expect(job.output).toMatchObject({ message: 'disk on fire' });
    const runs = await receipts(id);
    expect(runs.map((run) => [run.outcome, run.error])).toEqual([
      ['failed', 'disk on fire'],
      ['failed', 'disk on fire'],
      ['failed', 'disk on fire'],
    ]);
    expect(runs.every((run) => run.finishedAt !== null)).toBe(true);
    const deadLetters = await boss.findJobs(deadLetterQueueName('broken'));
    expect(deadLetters.filter((dead) => dead.sourceId === id)).toMatchObject([
      { state: 'created', sourceName: 'broken', sourceRetryCount: 2 },
    ]);
  });

  it('fails a payload that does not match its schema with a message naming the field', async () => {
    const id = await send('tidy', { days: 'soon' });

    const job = await settledAs('tidy', id, 'failed');
    expect(job.output).toMatchObject({ message: expect.stringMatching(/invalid payload for job "tidy"/) });
    const [run, ...more] = await receipts(id);
    expect(more).toEqual([]);
    expect(run).toMatchObject({ outcome: 'failed', dryRun: false, rowsAffected: 0 });
    expect(run!.error).toMatch(/invalid payload for job "tidy": .*expected number.*\n.*at days/s);
  });

  it('aborts a run that outlives expireInSeconds: its handler stops and the run is recorded aborted', async () => {
    const id = await send('overrun', {});

    const finished = await logs.waitFor(
      (line) => line.msg === 'job run finished' && line.jobId === id,
      `the overrun run ${id} to be recorded`,
    );
    expect(finished).toMatchObject({ level: 'warn', outcome: 'aborted' });
    expect(await receipts(id)).toMatchObject([
      {
        outcome: 'aborted',
        rowsAffected: 1,
        details: { batches: 1, stoppedEarly: true },
        error: 'it ran longer than expireInSeconds (1s)',
      },
    ]);
    // pg-boss fails the expired job on its own schedule, which may come after the receipt is written.
    await expect
      .poll(async () => (await boss.findJobs('overrun', { id })).map((job) => job.state), { timeout: 15_000 })
      .toEqual(['failed']);
  });
});
