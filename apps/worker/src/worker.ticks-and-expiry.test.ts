import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { MaintenanceRunSchema, type MaintenanceRun, type MikroORM } from '@threadstore/db';
import { createTestDatabase, useTestDatabase, type TestDatabase } from '@threadstore/db/testing';
import { createLogger } from '@threadstore/runtime';
import { startServiceProcess, type ServiceProcess } from '@threadstore/runtime/testing';
import * as z from 'zod';
import { testWorkerConfig, uniqueBossSchema } from '../test/worker-fixture.ts';
import { defineTestJob } from '../test/define-test-job.ts';
import { startWorker, type Worker } from './worker.ts';

const workerDir = join(import.meta.dirname, '..');

/** Polls `check` until it returns a value, or fails naming `what`. */
async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** Receipts in start order never overlap: each run started after the one before it finished. */
function expectOneAtATime(runs: MaintenanceRun[]): void {
  const sorted = [...runs].sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1]!;
    expect(previous.finishedAt, `${previous.job} run ${previous.id} was still running when the next began`).not.toBe(
      null,
    );
    expect(sorted[i]!.startedAt.getTime()).toBeGreaterThanOrEqual(previous.finishedAt!.getTime());
  }
}

describe('two worker processes racing for every tick', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase(inject('testPostgres'));
    orm = await db.createOrm();
  });
  afterAll(async () => {
    for (const worker of processes) worker.kill();
    await orm?.close();
    await db?.drop();
  });

  /*
   * pg-boss schedules have minute resolution, so this watches real minutes go by: three ticks take
   * two to three minutes. Both processes run test/tick-worker.ts: the worker's own registry and
   * startWorker, plus a 2-second probe and a 75-second probe scheduled every minute, with schedules
   * evaluated every second (not every 30), so that both processes try to send each tick many times.
   */
  it('send and run each tick of every schedule once, and skip a tick that finds its job still running', async () => {
    const schema = uniqueBossSchema();
    const env = {
      DATABASE_URL: db.url,
      PGBOSS_SCHEMA: schema,
      LOG_LEVEL: 'info',
      WORKER_POLL_INTERVAL_SECONDS: '0.5',
      JOB_SCHEDULES: JSON.stringify({ 'xp-rollup': '* * * * *' }),
    };
    for (let i = 0; i < 2; i++) processes.push(startServiceProcess('test/tick-worker.ts', env, workerDir));
    await Promise.all(processes.map((worker) => worker.waitFor((line) => line.msg === 'worker started', 'start')));

    const jobs = () =>
      orm.em.fork().execute<{ id: string; name: string; state: string }[]>(
        `select id::text, name, state::text
           from ${schema}.job where name not like '\\_\\_pgboss%' and name not like '%.dead'`,
      );
    await eventually(
      async () => {
        const done = (await jobs()).filter((job) => job.name === 'tick-probe' && job.state === 'completed');
        return done.length >= 3 ? done : undefined;
      },
      'three ticks of tick-probe to complete',
      200_000,
    );
    // Both processes were there for every tick, not one of them having crashed early.
    expect(processes.map((worker) => worker.child.exitCode)).toEqual([null, null]);
    for (const worker of processes) worker.kill();

    const allJobs = await jobs();
    const receipts = await orm.em.fork().find(MaintenanceRunSchema, {}, { orderBy: { startedAt: 'asc' } });
    const byName = Map.groupBy(allJobs, (job) => job.name);

    // Both processes evaluated every schedule about sixty times per tick; each occurrence was
    // forwarded once, and no tick of any schedule produced two jobs or two overlapping runs.
    const forwarded = await orm.em.fork().execute<{ occurrence: string; copies: number }[]>(
      `select singleton_key || ' ' || singleton_on as occurrence, count(*)::int as copies
           from ${schema}.job where name = '__pgboss__send-it' group by singleton_key, singleton_on`,
    );
    expect(forwarded.length).toBeGreaterThanOrEqual(3);
    expect(forwarded.filter((occurrence) => occurrence.copies > 1)).toEqual([]);
    // Each forwarded occurrence (one per schedule and minute slot) sends one job, so no schedule has
    // more jobs than slots. Not "one job per minute of created_on": a pass that runs late (a busy
    // machine) catches up on the occurrence it missed and sends it beside the one due now, two
    // ticks' jobs created in the same minute.
    const slots = await orm.em.fork().execute<{ name: string; slots: number }[]>(
      `select data->>'name' as name, count(distinct singleton_on)::int as slots
           from ${schema}.job where name = '__pgboss__send-it' group by 1`,
    );
    const slotsOf = new Map(slots.map((row) => [row.name, row.slots]));
    for (const [name, sent] of byName) {
      expect(sent.length, `${name} sent more jobs than it had ticks`).toBeLessThanOrEqual(slotsOf.get(name) ?? 0);
      expectOneAtATime(receipts.filter((run) => run.job === name));
    }
    // The short probe and the xp-rollup ran once for each tick they were sent.
    for (const name of ['tick-probe', 'xp-rollup']) {
      const finished = byName.get(name)!.filter((job) => job.state === 'completed');
      expect(finished.length, `${name} ticks`).toBeGreaterThanOrEqual(name === 'tick-probe' ? 3 : 2);
      for (const job of finished) {
        expect(receipts.filter((run) => run.queueJobId === job.id).map((run) => run.outcome)).toEqual(['succeeded']);
      }
    }
    // The long probe was still running when the next tick came, so that tick sent nothing.
    expect(byName.get('long-probe')!.length).toBeLessThan(byName.get('tick-probe')!.length);
  }, 300_000);
});

describe('an expired run and its retry, on two workers', () => {
  const testDb = useTestDatabase();
  const workers: Worker[] = [];
  afterEach(async () => {
    for (const worker of workers.splice(0)) await worker.stop();
  });

  it('stops at its next batch once pg-boss aborts it, and the retry carries on after it, not beside it', async () => {
    await testDb.orm.em.fork().execute(
      `create table sweep_items (n int primary key, attempt int);
         insert into sweep_items (n) select generate_series(1, 12);`,
    );
    // Twelve items at 250 ms each outlast the 2 s expiry: the first attempt does about eight.
    const sweep = defineTestJob({
      name: 'expiring-sweep',
      description: 'Works through sweep_items one committed batch at a time, checking its signal between batches.',
      payload: z.object({}),
      queue: { expireInSeconds: 2, retryLimit: 3, retryDelay: 1 },
      handler: async ({ em, signal, reportProgress }) => {
        let done = 0;
        while (!signal.aborted) {
          const claimed = await em.execute<{ n: number }[]>(
            `update sweep_items set attempt = coalesce(attempt, 0) + 1
              where n = (select min(n) from sweep_items where attempt is null) returning n`,
          );
          if (claimed.length === 0) break;
          done += 1;
          await reportProgress({ done });
          await sleep(250);
        }
        return { rowsAffected: done, details: { done } };
      },
    });
    const schema = uniqueBossSchema();
    const logger = createLogger('worker-test', 'silent');
    for (let i = 0; i < 2; i++) {
      workers.push(
        await startWorker({
          orm: testDb.orm,
          logger,
          jobs: [sweep],
          config: testWorkerConfig(testDb.db, [sweep], { PGBOSS_SCHEMA: schema }),
        }),
      );
    }
    const id = (await workers[0]!.boss.send('expiring-sweep', {}))!;

    const receipts = await eventually(
      async () => {
        const runs = await testDb.orm.em
          .fork()
          .find(MaintenanceRunSchema, { queueJobId: id }, { orderBy: { startedAt: 'asc' } });
        return runs.at(-1)?.outcome === 'succeeded' ? runs : undefined;
      },
      'the sweep to succeed',
      60_000,
    );

    const [first, ...retries] = receipts;
    expect(first).toMatchObject({ outcome: 'aborted', error: 'it ran longer than expireInSeconds (2s)' });
    expect(first!.rowsAffected).toBeGreaterThan(0);
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expectOneAtATime(receipts);
    // Every item was swept exactly once across the attempts, each attempt counting its own.
    const items = await testDb.orm.em.fork().execute<{ attempt: number }[]>(`select attempt from sweep_items`);
    expect(items.map((item) => item.attempt)).toEqual(Array(12).fill(1));
    expect(receipts.reduce((sum, run) => sum + run.rowsAffected, 0)).toBe(12);
    expect(await workers[1]!.boss.findJobs('expiring-sweep', { id })).toMatchObject([{ state: 'completed' }]);
  }, 90_000);
});
