import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, migrationNames, type TestDatabase } from '@threadstore/db/testing';
import { startServiceProcess, type ServiceProcess } from '@threadstore/runtime/testing';
import { jobs } from './jobs/registry.ts';

const workerDir = join(import.meta.dirname, '..');
const running = new Set<ServiceProcess>();

/** `node src/main.ts` with nothing from this process's environment but PATH. */
function startMain(env: Record<string, string>): ServiceProcess {
  const main = startServiceProcess('src/main.ts', env, workerDir);
  running.add(main);
  return main;
}

afterEach(() => {
  for (const main of running) main.kill();
  running.clear();
});

describe('node src/main.ts', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(inject('testPostgres'));
  });
  afterAll(() => db?.drop());

  it('starts, says so in JSON, and on SIGTERM shuts down gracefully with exit code 0', async () => {
    const main = startMain({ DATABASE_URL: db.url, LOG_LEVEL: 'info' });

    const started = await main.waitFor((line) => line.msg === 'worker started', '"worker started"');
    expect(started).toMatchObject({ level: 'info', service: 'worker', queues: jobs.map((job) => job.name) });
    main.child.kill('SIGTERM');

    expect((await main.exited()).code).toBe(0);
    expect(main.stdout.lines.map((line) => line.msg)).toEqual(
      expect.arrayContaining(['worker started', 'shutting down', 'shutdown complete']),
    );
    expect(main.stdout.notJson).toEqual([]);
    expect(main.stderr()).toBe('');
  });

  it.each<{ problem: string; env: Record<string, string>; named: RegExp[] }>([
    {
      problem: 'no DATABASE_URL, bad polling and an unknown job in JOB_SCHEDULES',
      env: { WORKER_POLL_INTERVAL_SECONDS: '0.1', JOB_SCHEDULES: '{"no-such-job":"0 3 * * *"}' },
      named: [
        /DATABASE_URL: is required/,
        /WORKER_POLL_INTERVAL_SECONDS: /,
        /JOB_SCHEDULES: no job is named "no-such-job"/,
      ],
    },
    {
      problem: 'JOB_SCHEDULES that is not JSON',
      env: { DATABASE_URL: 'postgres://worker@127.0.0.1:1/none', JOB_SCHEDULES: 'retention=0 3 * * *' },
      named: [/JOB_SCHEDULES: must be a JSON object/],
    },
  ])('refuses to start with $problem: exit code 78, each variable named on stderr', async ({ env, named }) => {
    const main = startMain(env);

    expect((await main.exited()).code).toBe(78);
    for (const pattern of named) expect(main.stderr()).toMatch(pattern);
    expect(main.stderr()).not.toMatch(/^\s+at /m);
    expect(main.stdout.lines).toEqual([]);
  });

  it('refuses a database that lacks migrations: exit code 1 and a fatal line naming them', async () => {
    await using empty = await createTestDatabase(inject('testPostgres'), { empty: true });
    const main = startMain({ DATABASE_URL: empty.url, LOG_LEVEL: 'info' });

    expect((await main.exited()).code).toBe(1);
    const fatal = main.stdout.lines.find((line) => line.level === 'fatal');
    expect(fatal).toMatchObject({
      pending: migrationNames(),
      msg: expect.stringContaining(
        `missing ${migrationNames().length} migration(s) this build needs (${migrationNames().join(', ')})`,
      ),
    });
    expect(main.stdout.notJson).toEqual([]);
  });
});
