import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import type { Principal } from '@threadstore/domain';
import { createTestUser } from '@threadstore/domain/testing';
import { createLogger } from '@threadstore/runtime';
import { jobDefinitions as jobs } from '@threadstore/jobs';
import { PgBoss } from 'pg-boss';
import { createJobQueue, type JobQueue } from '../../admin/job-queue.ts';
import { callerAs } from '../../testing/caller.ts';
import { createContextInner } from '../../trpc/context.ts';
import { createCaller } from '../_app.ts';

const SCHEMA = 'pgboss_retention_admin_test';

describe('retention policies and legal holds (admin)', () => {
  const testDb = useTestDatabase();
  let admin: Principal;
  let user: { userId: string; principal: Principal };
  let boss: PgBoss;
  let queue: JobQueue;

  beforeAll(async () => {
    admin = (await createTestUser(testDb.orm.em.fork(), { role: 'admin' })).principal;
    user = await createTestUser(testDb.orm.em.fork());
    boss = new PgBoss({ connectionString: testDb.db.url, schema: SCHEMA, supervise: false, schedule: false });
    await boss.start();
    await boss.createQueue('retention', { policy: 'exclusive' });
    queue = createJobQueue({
      connection: { connectionString: testDb.db.url },
      schema: SCHEMA,
      logger: createLogger('test', 'silent'),
      jobs,
    });
  });
  afterAll(async () => {
    await queue?.close();
    await boss?.stop({ graceful: false, close: true });
  });

  const asAdmin = () => callerAs(testDb.orm, admin);

  it("lists the seeded global defaults, and configures seed 004's and 001's wishes", async () => {
    const { items } = await asAdmin().retention.listPolicies({ scope: 'global' });
    expect(items.map((policy) => [policy.target, policy.keepForDays])).toEqual(
      expect.arrayContaining([
        ['inactive_sessions', 90],
        ['anonymous_sessions', expect.any(Number)],
      ]),
    );
    // Seed 004: sessions kept forever. Removing the global rule leaves the target uncovered.
    const inactive = items.find((policy) => policy.target === 'inactive_sessions')!;
    const { removed } = await asAdmin().retention.removePolicy({ id: inactive.id });
    expect(removed.id).toBe(inactive.id);
    await expect(asAdmin().retention.removePolicy({ id: inactive.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // Seed 001: anonymous sessions never expire — the same for that target.
    const anonymous = items.find((policy) => policy.target === 'anonymous_sessions')!;
    await asAdmin().retention.removePolicy({ id: anonymous.id });
    const after = await asAdmin().retention.listPolicies({ scope: 'global' });
    expect(after.items.map((policy) => policy.target)).not.toContain('inactive_sessions');
    expect(after.items.map((policy) => policy.target)).not.toContain('anonymous_sessions');
    // Back to a finite rule, which replaces on a second set.
    await asAdmin().retention.setPolicy({ scope: 'global', target: 'inactive_sessions', keepForDays: 365 });
    const replaced = await asAdmin().retention.setPolicy({
      scope: 'global',
      target: 'inactive_sessions',
      keepForDays: 730,
      note: 'two years',
    });
    expect(replaced).toMatchObject({ keepForDays: 730, note: 'two years', legalHold: false });
    const trail = await asAdmin().audit.list({ scope: 'all', action: 'retention.' });
    expect(trail.items.map((item) => item.action)).toEqual([
      'retention.setPolicy',
      'retention.setPolicy',
      'retention.removePolicy',
      'retention.removePolicy',
    ]);
    expect(trail.items[0]!.details).toMatchObject({
      before: { keepForDays: 365 },
      after: { keepForDays: 730 },
    });
  });

  it('places and lifts a legal hold on a user, refusing malformed rules', async () => {
    const hold = await asAdmin().retention.setPolicy({
      scope: 'user',
      userId: user.userId,
      target: 'all',
      legalHold: true,
      note: 'case 42',
    });
    expect(hold).toMatchObject({ scope: 'user', userId: user.userId, legalHold: true, keepForDays: null });
    expect((await asAdmin().retention.listPolicies({ legalHold: true })).items.map((p) => p.id)).toEqual([hold.id]);
    // An account under hold cannot be erased.
    await expect(
      callerAs(testDb.orm, user.principal).account.erase({ confirm: 'erase my account' }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    await asAdmin().retention.removePolicy({ id: hold.id });

    for (const bad of [
      { scope: 'global' as const, target: 'all' as const, legalHold: true },
      { scope: 'global' as const, userId: user.userId, target: 'soft_deleted' as const, keepForDays: 5 },
      { scope: 'user' as const, target: 'soft_deleted' as const, keepForDays: 5 },
      { scope: 'user' as const, userId: user.userId, target: 'soft_deleted' as const },
      { scope: 'project' as const, projectId: user.userId, target: 'all' as const, keepForDays: 3 },
    ]) {
      await expect(asAdmin().retention.setPolicy(bad), JSON.stringify(bad)).rejects.toMatchObject({
        code: 'BAD_REQUEST',
      });
    }
    await expect(
      asAdmin().retention.setPolicy({
        scope: 'project',
        projectId: '01900000-0000-7000-8000-000000000000',
        target: 'soft_deleted',
        keepForDays: 3,
      }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('is for administrators only', async () => {
    const caller = callerAs(testDb.orm, user.principal);
    await expect(caller.retention.listPolicies({})).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(
      caller.retention.setPolicy({ scope: 'user', userId: user.userId, target: 'soft_deleted', keepForDays: 1 }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(
      caller.retention.preview({ changes: [{ action: 'remove', scope: 'global', target: 'soft_deleted' }] }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('queues a retention dry run carrying the previewed changes', async () => {
    const caller = createCaller(() =>
      createContextInner({
        orm: testDb.orm,
        logger: createLogger('test', 'silent'),
        config: { NODE_ENV: 'test', READINESS_TIMEOUT_MS: 2_000 },
        jobQueue: queue,
        requestId: 'preview-test',
        principal: admin,
      }),
    );
    const changes = [
      { action: 'set' as const, scope: 'global' as const, target: 'soft_deleted' as const, keepForDays: 1 },
    ];
    const { queueJobId } = await caller.retention.preview({ changes });
    const job = await boss.getJobById('retention', queueJobId);
    expect(job?.data).toEqual({ dryRun: true, preview: changes });
    await expect(
      caller.retention.preview({ changes: [{ action: 'set', scope: 'global', target: 'all', keepForDays: 1 }] }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    // Without a queue the procedure says so instead of failing.
    await expect(asAdmin().retention.preview({ changes })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
  });
});
