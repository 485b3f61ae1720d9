import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import { within } from '@threadstore/runtime/testing';
import { runHandler } from '../../../test/job-context.ts';
import { vacuumAnalyzeJob } from '@threadstore/jobs';

describe('vacuum-analyze', () => {
  const testDb = useTestDatabase();
  const pool = () => testDb.orm.em.getConnection().getNativeClient();

  /** Leaves `dead` dead tuples among `rows` memories, with the statistics flushed for other sessions to see. */
  async function churnMemories(rows: number, dead: number): Promise<void> {
    const client = await (await pool()).connect();
    try {
      // Otherwise autovacuum could reclaim the dead tuples first and leave the job nothing to choose.
      await client.query('alter table memories set (autovacuum_enabled = false)');
      const { rows: users } = await client.query<{ id: string }>(
        `insert into users (issuer, subject) values ('test', gen_random_uuid()::text) returning id`,
      );
      await client.query(
        `insert into memories (user_id, kind, content) select $1, 'long_term', 'fact ' || n from generate_series(1, $2) n`,
        [users[0]!.id, rows],
      );
      await client.query(`delete from memories where id in (select id from memories limit $1)`, [dead]);
      // Statistics reach the shared view when a backend goes idle, at most once a second unless asked.
      await client.query('select pg_stat_force_next_flush()');
    } finally {
      client.release();
    }
  }

  async function lastVacuum(table: string): Promise<string | null> {
    const { rows } = await (
      await pool()
    ).query<{ at: string | null }>(`select last_vacuum::text as at from pg_stat_user_tables where relname = $1`, [
      table,
    ]);
    return rows[0]!.at;
  }

  it('vacuums, outside any transaction, the tables whose dead tuples call for it, with dead tuples before and after', async () => {
    await churnMemories(3_000, 2_000);
    expect(await lastVacuum('memories')).toBeNull();

    const { result } = await runHandler(vacuumAnalyzeJob, testDb.orm, {});

    expect(result.details.tables).toEqual([
      {
        table: 'memories',
        reason: 'dead tuples',
        deadTuplesBefore: 2_000,
        liveTuplesBefore: 1_000,
        modifiedSinceAnalyzeBefore: 5_000,
        outcome: 'vacuumed',
        deadTuplesAfter: 0,
        durationMs: expect.any(Number),
      },
    ]);
    expect(result.rowsAffected).toBe(2_000);
    // VACUUM refuses to run inside a transaction block, so a recorded vacuum proves it ran outside one.
    expect(await lastVacuum('memories')).not.toBeNull();
  });

  it('skips a table whose lock another transaction holds, with a lock-timeout note, and goes on to the next', async () => {
    const locker = await (await pool()).connect();
    try {
      await locker.query('begin');
      await locker.query('lock table chat_messages in access exclusive mode');

      const { result } = await runHandler(vacuumAnalyzeJob, testDb.orm, {
        tables: ['chat_messages', 'chat_sessions'],
        lockTimeoutMs: 200,
      });

      expect(result.details.tables).toMatchObject([
        {
          table: 'chat_messages',
          reason: 'requested',
          outcome: 'skipped',
          note: 'its lock was not granted within 200 ms (another transaction holds it)',
        },
        { table: 'chat_sessions', reason: 'requested', outcome: 'vacuumed' },
      ]);
    } finally {
      await locker.query('rollback');
      locker.release();
    }
    expect(await lastVacuum('chat_messages')).toBeNull();
    expect(await lastVacuum('chat_sessions')).not.toBeNull();
  });

  it('cancels the VACUUM in flight when the job is aborted, and vacuums no further table', async () => {
    const locker = await (await pool()).connect();
    try {
      await locker.query('begin');
      await locker.query('lock table investigations in access exclusive mode');
      const stop = new AbortController();
      const run = runHandler(
        vacuumAnalyzeJob,
        testDb.orm,
        { tables: ['investigations', 'projects'], lockTimeoutMs: 600_000 },
        { signal: stop.signal },
      );
      await within(vacuumWaitingForLock(), 15_000, 'VACUUM to wait for the lock');

      stop.abort();

      const { result } = await within(run, 15_000, 'the aborted run to return');
      expect(result.details).toMatchObject({
        stoppedEarly: true,
        tables: [{ table: 'investigations', outcome: 'cancelled', note: 'the job was aborted while VACUUM ran' }],
      });
    } finally {
      await locker.query('rollback');
      locker.release();
    }
    expect(await lastVacuum('projects')).toBeNull();
  });

  async function vacuumWaitingForLock(): Promise<void> {
    for (;;) {
      const { rows } = await (
        await pool()
      ).query(
        `select 1 from pg_stat_activity
         where datname = current_database() and query like 'vacuum%' and wait_event_type = 'Lock'`,
      );
      if (rows.length > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('in a dry run names the tables it would vacuum and why, and vacuums none', async () => {
    const { result } = await runHandler(vacuumAnalyzeJob, testDb.orm, {
      dryRun: true,
      tables: ['retention_policies'],
    });

    expect(result.details.tables).toMatchObject([
      { table: 'retention_policies', reason: 'requested', outcome: 'would vacuum' },
    ]);
    expect(await lastVacuum('retention_policies')).toBeNull();
  });

  it('refuses a requested name that is not a table of the schema, so no unknown identifier reaches SQL', async () => {
    await expect(
      runHandler(vacuumAnalyzeJob, testDb.orm, { tables: ['memories', 'users; drop table users', 'pgboss.job'] }),
    ).rejects.toThrow('vacuum-analyze: no table named "users; drop table users", "pgboss.job" in this schema');
  });
});
