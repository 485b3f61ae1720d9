import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MaintenanceRunSchema } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { startServiceProcess, within, type ServiceProcess } from '@threadstore/runtime/testing';
import { PgBoss } from 'pg-boss';
import { runHandler } from '../../../test/job-context.ts';
import { uniqueBossSchema } from '../../../test/worker-fixture.ts';
import { retentionJob } from '@threadstore/jobs';

const workerDir = join(import.meta.dirname, '../../..');
const BATCH_SIZE = 50;

describe('retention in a worker process killed mid-run', () => {
  const testDb = useTestDatabase();
  let worker: ServiceProcess | undefined;
  afterEach(() => worker?.kill());

  /** `count` sessions of `messages` messages each, titled `title`, last active `inactiveDays` ago. */
  async function seedSessions(user: string, title: string, count: number, messages: number, inactiveDays: number) {
    const pool = await testDb.orm.em.getConnection().getNativeClient();
    await pool.query(
      `with sessions as (
         insert into chat_sessions (user_id, title, last_seq, message_count, last_activity_at)
         select $1, $2, $4, $4, now() - $5 * interval '1 day' from generate_series(1, $3)
         returning id
       )
       insert into chat_messages (session_id, seq, role, content)
       select sessions.id, seq, 'user', 'hello' from sessions, generate_series(1, $4) seq`,
      [user, title, count, messages, inactiveDays],
    );
  }

  /** Per title: sessions, messages, and sessions whose message count no longer matches last_seq. */
  async function census() {
    const pool = await testDb.orm.em.getConnection().getNativeClient();
    const { rows } = await pool.query<{
      title: string;
      hidden: boolean;
      sessions: number;
      messages: number;
      partial: number;
    }>(
      `select s.title, s.deleted_at is not null as hidden, count(*)::int as sessions,
              sum(m.messages)::int as messages, count(*) filter (where m.messages <> s.last_seq)::int as partial
       from chat_sessions s
       cross join lateral (select count(*) as messages from chat_messages where session_id = s.id) m
       group by 1, 2 order by 1, 2`,
    );
    return rows;
  }

  it(
    'leaves no orphaned message and no half-emptied visible session, and the next run finishes the work',
    { timeout: 60_000 },
    async () => {
      const pool = await testDb.orm.em.getConnection().getNativeClient();
      const { rows } = await pool.query<{ id: string }>(
        `insert into users (issuer, subject) values ('test', 'kill') returning id`,
      );
      const user = rows[0]!.id;
      await seedSessions(user, 'expired', 600, 10, 120);
      await seedSessions(user, 'expired-large', 3, 8 * BATCH_SIZE, 120);
      await seedSessions(user, 'kept', 100, 10, 10);
      const bossSchema = uniqueBossSchema();
      worker = startServiceProcess(
        'src/main.ts',
        {
          DATABASE_URL: testDb.db.url,
          PGBOSS_SCHEMA: bossSchema,
          WORKER_POLL_INTERVAL_SECONDS: '0.5',
          JOB_SCHEDULES: JSON.stringify({ retention: 'off' }),
          LOG_LEVEL: 'info',
        },
        workerDir,
      );
      await worker.waitFor((line) => line.msg === 'worker started', '"worker started"');

      const boss = new PgBoss({
        connectionString: testDb.db.url,
        schema: bossSchema,
        supervise: false,
        schedule: false,
      });
      await boss.start();
      try {
        await boss.send('retention', { batchSize: BATCH_SIZE });
      } finally {
        await boss.stop({ graceful: false });
      }
      await within(waitForProgress(), 15_000, 'the retention run to report a batch');
      worker.kill();
      await worker.exited();
      // A transaction the killed process left open ends once its backend notices; until then its
      // locks would make the next run skip those sessions.
      await within(backendsGone(), 15_000, "the killed worker's connections to close");

      const afterKill = await census();
      const expiredLeft = afterKill
        .filter((row) => row.title.startsWith('expired'))
        .reduce((n, r) => n + r.sessions, 0);
      expect(expiredLeft).toBeGreaterThan(0);
      // The killed run got somewhere: it had hidden expired sessions (the first step, before any delete).
      expect(afterKill.filter((row) => row.title.startsWith('expired') && row.hidden).length).toBeGreaterThan(0);
      // Only a hidden session may be partial (its messages go over the whole sweep).
      expect(afterKill.filter((row) => row.partial > 0 && !row.hidden)).toEqual([]);
      expect(afterKill).toContainEqual({ title: 'kept', hidden: false, sessions: 100, messages: 1_000, partial: 0 });
      expect(await orphanedMessages()).toBe(0);

      const rerun = await runHandler(retentionJob, testDb.orm, { batchSize: BATCH_SIZE });

      expect(await census()).toEqual([{ title: 'kept', hidden: false, sessions: 100, messages: 1_000, partial: 0 }]);
      expect(await orphanedMessages()).toBe(0);
      expect(rerun.result.details).toMatchObject({ stoppedEarly: false, lockConflicts: 0 });
      expect(rerun.result.details.targets).toMatchObject({ inactive_sessions: { sessions: expiredLeft } });
    },
  );

  async function waitForProgress(): Promise<void> {
    for (;;) {
      const run = await testDb.orm.em.fork().findOne(MaintenanceRunSchema, { job: 'retention' });
      if (typeof run?.details.batches === 'number' && run.details.batches > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async function backendsGone(): Promise<void> {
    const pool = await testDb.orm.em.getConnection().getNativeClient();
    for (;;) {
      const { rows } = await pool.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity
         where datname = current_database() and application_name like 'threadstore-worker%'`,
      );
      if (rows[0]!.n === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function orphanedMessages(): Promise<number> {
    const pool = await testDb.orm.em.getConnection().getNativeClient();
    const { rows } = await pool.query<{ n: number }>(
      `select count(*)::int as n from chat_messages m where not exists (select 1 from chat_sessions s where s.id = m.session_id)`,
    );
    return rows[0]!.n;
  }
});
