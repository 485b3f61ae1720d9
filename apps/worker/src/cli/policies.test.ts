import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import { createTestUser } from '@threadstore/domain/testing';
import { jobsCli as runJobsCli } from '../../test/jobs-cli.ts';

const SCHEMA = 'pgboss_cli_policies_test';

describe('the jobs CLI on retention policies and legal holds', () => {
  const testDb = useTestDatabase();
  const jobsCli = (...args: string[]) => runJobsCli(testDb.db.url, SCHEMA, ...args);

  it(
    'configures seed 004 (sessions forever) and 001 (anonymous sessions never expire), previewing first',
    { timeout: 240_000 },
    async () => {
      const { userId } = await createTestUser(testDb.orm.em.fork());
      await testDb.orm.em
        .fork()
        .getConnection()
        .execute(`insert into chat_sessions (user_id, last_activity_at) values (?, now() - interval '120 days')`, [
          userId,
        ]);
      const inactiveSessions = (stdout: string) => /"inactive_sessions":\{[^}]*"sessions":(\d+)/.exec(stdout)?.[1];
      const listed = await jobsCli('policies', '--scope', 'global');
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(/global +- +inactive_sessions +90 days/);

      // Today's rule would delete the 120-day-old session; without the global rule nothing would.
      expect(inactiveSessions((await jobsCli('run', 'retention', '--dry-run')).stdout)).toBe('1');
      const preview = await jobsCli(
        'policy',
        'preview',
        '--scope',
        'global',
        '--target',
        'inactive_sessions',
        '--remove',
      );
      expect(preview.code).toBe(0);
      expect(inactiveSessions(preview.stdout)).toBe('0');

      for (const target of ['inactive_sessions', 'anonymous_sessions']) {
        const removed = await jobsCli('policy', 'remove', '--scope', 'global', '--target', target);
        expect(removed.code, removed.stderr).toBe(0);
        expect(removed.stdout).toMatch(/^removed: [0-9a-f-]{36}$/m);
      }
      const after = await jobsCli('policies', '--scope', 'global');
      expect(after.stdout).not.toMatch(/inactive_sessions|anonymous_sessions/);

      const set = await jobsCli(
        'policy',
        'set',
        '--scope',
        'global',
        '--target',
        'inactive_sessions',
        '--keep-days',
        '400',
      );
      expect(set.stdout).toMatch(/inactive_sessions +400 days/);
      const trail = await testDb.orm.em
        .fork()
        .getConnection()
        .execute<{ actor_id: string; action: string }[]>(
          `select actor_id, action from audit_log where actor_type = 'system' order by id`,
        );
      expect(trail).toEqual([
        { actor_id: 'jobs-cli', action: 'retention.removePolicy' },
        { actor_id: 'jobs-cli', action: 'retention.removePolicy' },
        { actor_id: 'jobs-cli', action: 'retention.setPolicy' },
      ]);
    },
  );

  it('places and lifts a legal hold, and refuses bad usage with exit code 64', { timeout: 240_000 }, async () => {
    const { userId } = await createTestUser(testDb.orm.em.fork());
    const placed = await jobsCli('hold', 'place', '--user', userId, '--note', 'case 7');
    expect(placed.code, placed.stderr).toBe(0);
    const id = /([0-9a-f-]{36}) +user/.exec(placed.stdout)?.[1];
    expect(placed.stdout).toMatch(/LEGAL HOLD +case 7/);
    expect((await jobsCli('policies', '--holds')).stdout).toContain(id);
    expect((await jobsCli('hold', 'lift', id!)).stdout).toContain(`lifted: ${id}`);
    expect((await jobsCli('policies', '--holds')).stdout.trim()).toBe('(none)');

    expect((await jobsCli('policy', 'set', '--target', 'soft_deleted', '--keep-days', '0')).code).toBe(64);
    expect((await jobsCli('hold', 'place')).code).toBe(64);
  });
});
