import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatSessionSchema, MaintenanceRunSchema } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { createTestUser } from '@threadstore/domain/testing';
import { PgBoss } from 'pg-boss';
import { jobsCli as runJobsCli } from '../../test/jobs-cli.ts';
import { jobs } from '../jobs/registry.ts';

const SCHEMA = 'pgboss_cli_test';

const jobsCli = (databaseUrl: string, ...args: string[]) => runJobsCli(databaseUrl, SCHEMA, ...args);

describe('the jobs CLI', () => {
  const testDb = useTestDatabase();
  let boss: PgBoss;
  let stale: string;

  beforeAll(async () => {
    // No worker has ever started here: the CLI creates the queue it needs and works the run itself.
    boss = new PgBoss({ connectionString: testDb.db.url, schema: SCHEMA, supervise: false, schedule: false });
    await boss.start();
    await boss.createQueue('stats', { policy: 'exclusive' });
    await boss.schedule('stats', '7 * * * *', {}, { tz: 'UTC', key: 'registry' });
    const em = testDb.orm.em.fork();
    const { userId } = await createTestUser(em);
    const session = em.create(ChatSessionSchema, {
      user: userId,
      status: 'running',
      startedAt: new Date(Date.now() - 3 * 3600_000),
    });
    await em.flush();
    stale = session.id;
  });
  afterAll(() => boss?.stop({ graceful: false, close: true }));

  it('runs a job now as a dry run, showing its result, leaving a receipt and changing nothing', async () => {
    const { code, stdout } = await jobsCli(testDb.db.url, 'run', 'stuck-run-reaper', '--dry-run');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^stuck-run-reaper: queued as [0-9a-f-]{36} \(dry run\)$/m);
    expect(stdout).toContain(`"failedSessions":["${stale}"]`);
    expect(stdout).toMatch(/^stuck-run-reaper: succeeded, 0 rows$/m);
    const [receipt] = await testDb.orm.em.fork().find(MaintenanceRunSchema, { job: 'stuck-run-reaper' });
    expect(receipt).toMatchObject({ dryRun: true, outcome: 'succeeded' });
    expect(await testDb.orm.em.fork().findOneOrFail(ChatSessionSchema, stale)).toMatchObject({ status: 'running' });
  });

  it('runs it for real with a payload, then lists the runs newest first', async () => {
    const { code, stdout } = await jobsCli(
      testDb.db.url,
      'run',
      'stuck-run-reaper',
      '--payload',
      '{"staleAfterMinutes":60}',
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(/^stuck-run-reaper: succeeded, 1 rows$/m);
    expect(await testDb.orm.em.fork().findOneOrFail(ChatSessionSchema, stale)).toMatchObject({ status: 'failed' });

    const runs = await jobsCli(testDb.db.url, 'runs', '--job', 'stuck-run-reaper');
    expect(runs.code).toBe(0);
    const outcomes = [...runs.stdout.matchAll(/ (succeeded(?: \(dry run\))?) {2,}/g)].map((match) => match[1]);
    expect(outcomes).toEqual(['succeeded', 'succeeded (dry run)']);
  });

  it('lists every job with its default, effective and registered schedule', async () => {
    const { code, stdout } = await jobsCli(testDb.db.url, 'schedules');
    expect(code).toBe(0);
    for (const job of jobs) expect(stdout).toContain(job.name);
    expect(stdout).toMatch(/^job\s+default\s+effective\s+registered$/m);
    expect(stdout).toMatch(/^stats\s+0 \* \* \* \*\s+0 \* \* \* \*\s+7 \* \* \* \*$/m);
    expect(stdout).toMatch(/^retention\s+0 3 \* \* \*\s+0 3 \* \* \*\s+\(none: no worker has started with it\)$/m);
  });

  it('refuses unknown jobs and commands with exit 64, naming the jobs', async () => {
    const unknownJob = await jobsCli(testDb.db.url, 'run', 'no-such-job');
    expect(unknownJob.code).toBe(64);
    expect(unknownJob.stderr).toContain('unknown job "no-such-job"; jobs: ');
    expect(unknownJob.stderr).toContain('stuck-run-reaper');
    const unknownCommand = await jobsCli(testDb.db.url, 'explode');
    expect(unknownCommand.code).toBe(64);
    expect(unknownCommand.stderr).toMatch(/^usage: jobs run <job>/);
    expect(await testDb.orm.em.fork().count(MaintenanceRunSchema, { job: 'no-such-job' })).toBe(0);
  });

  it('refuses an unknown flag with exit 64 before running anything (`--dryrun` is not `--dry-run`)', async () => {
    const receipts = () => testDb.orm.em.fork().count(MaintenanceRunSchema, {});
    const before = await receipts();
    for (const args of [
      ['run', 'retention', '--dryrun'],
      ['run', 'stuck-run-reaper', '--dry-run', '--payload={}', '--force'],
      ['runs', '--jobs', 'retention'],
    ]) {
      const result = await jobsCli(testDb.db.url, ...args);
      expect(result.code).toBe(64);
      expect(result.stderr).toMatch(/^Unknown option '--(dryrun|force|jobs)'/);
      expect(result.stderr).toContain('usage: jobs run <job>');
      expect(result.stdout).toBe('');
    }
    expect(await receipts()).toBe(before);
    // The CLI creates a job's queue before it sends; no queue means nothing was sent.
    expect(await boss.getQueue('retention')).toBeFalsy();
  });
});
