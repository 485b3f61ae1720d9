import { describe, expect, it } from 'vitest';
import type { TRetentionChange } from '@threadstore/contract';
import { useTestDatabase } from '@threadstore/db/testing';
import { runHandler } from '../../../test/job-context.ts';
import { retentionJob } from '@threadstore/jobs';

describe('a retention dry run previewing policy changes', () => {
  const testDb = useTestDatabase();

  it('counts what would go under the changed policies, and changes no policy', async () => {
    const pool = await testDb.orm.em.getConnection().getNativeClient();
    const { rows } = await pool.query<{ id: string }>(
      `insert into users (issuer, subject) values ('test', 'preview') returning id`,
    );
    const user = rows[0]!.id;
    await pool.query(
      `insert into chat_sessions (user_id, title, last_activity_at)
       select $1::uuid, 'old', now() - interval '120 days' from generate_series(1, 7)
       union all select $1::uuid, 'recent', now() - interval '40 days' from generate_series(1, 5)`,
      [user],
    );
    const policies = async () =>
      (await pool.query(`select * from retention_policies order by id`)).rows as Record<string, unknown>[];
    const before = await policies();
    const sessionsCounted = async (preview: TRetentionChange[]) => {
      const { result } = await runHandler(retentionJob, testDb.orm, { dryRun: true, preview });
      return (result.details.targets as { inactive_sessions: { sessions: number } }).inactive_sessions.sessions;
    };

    expect(await sessionsCounted([])).toBe(7);
    expect(
      await sessionsCounted([{ action: 'set', scope: 'global', target: 'inactive_sessions', keepForDays: 30 }]),
    ).toBe(12);
    // Seed 004's wish: no global rule for inactive sessions, so none is ever deleted for inactivity.
    expect(await sessionsCounted([{ action: 'remove', scope: 'global', target: 'inactive_sessions' }])).toBe(0);
    // A legal hold on the user exempts all of them.
    expect(
      await sessionsCounted([{ action: 'set', scope: 'user', userId: user, target: 'all', legalHold: true }]),
    ).toBe(0);
    expect(await policies()).toEqual(before);
    expect(
      retentionJob.payload.safeParse({ preview: [{ action: 'remove', scope: 'global', target: 'soft_deleted' }] })
        .success,
    ).toBe(false);
  });
});
