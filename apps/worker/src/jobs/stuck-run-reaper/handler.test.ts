import { beforeEach, describe, expect, it } from 'vitest';
import { AuditLogSchema, ChatSessionSchema, MaintenanceRunSchema, type SessionStatus } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { anonymousPrincipal, createTestUser } from '@threadstore/domain/testing';
import { runHandler } from '../../../test/job-context.ts';
import { stuckRunReaperJob } from '@threadstore/jobs';

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);

describe('the stuck-run reaper', () => {
  const testDb = useTestDatabase();

  beforeEach(async () => {
    const em = testDb.orm.em.fork();
    await em.nativeDelete(ChatSessionSchema, {});
    await em.nativeDelete(AuditLogSchema, {});
    await em.nativeDelete(MaintenanceRunSchema, {});
  });

  async function session(
    status: SessionStatus,
    { progressMinutesAgo, startedMinutesAgo }: { progressMinutesAgo?: number; startedMinutesAgo?: number },
    owner: { user: string } | { anonymousId: string },
  ) {
    const em = testDb.orm.em.fork();
    const row = em.create(ChatSessionSchema, {
      ...owner,
      status,
      startedAt: startedMinutesAgo === undefined ? null : minutesAgo(startedMinutesAgo),
      lastProgressAt: progressMinutesAgo === undefined ? null : minutesAgo(progressMinutesAgo),
    });
    await em.flush();
    return row.id;
  }

  it('fails only running sessions without progress for the configured time, saying why', async () => {
    const alice = { user: (await createTestUser(testDb.orm.em.fork())).userId };
    const visitor = { anonymousId: anonymousPrincipal().anonymousId };
    const staleRunning = await session('running', { startedMinutesAgo: 120, progressMinutesAgo: 45 }, alice);
    const staleNeverReported = await session('running', { startedMinutesAgo: 40 }, visitor);
    const freshRunning = await session('running', { startedMinutesAgo: 120, progressMinutesAgo: 5 }, alice);
    const completed = await session('completed', { startedMinutesAgo: 300, progressMinutesAgo: 200 }, alice);
    const created = await session('created', {}, visitor);

    const { result } = await runHandler(stuckRunReaperJob, testDb.orm, { staleAfterMinutes: 30 });
    expect([...(result.details.failedSessions as string[])].sort()).toEqual([staleRunning, staleNeverReported].sort());
    expect(result.rowsAffected).toBe(2);

    const rows = await testDb.orm.em.fork().find(ChatSessionSchema, {}, { orderBy: { id: 'asc' } });
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const id of [staleRunning, staleNeverReported]) {
      expect(byId.get(id)).toMatchObject({
        status: 'failed',
        error: 'no progress for 30 minutes; failed by the stuck-run reaper',
        finishedAt: expect.any(Date),
        version: 2,
      });
    }
    expect(byId.get(freshRunning)).toMatchObject({ status: 'running', error: null, version: 1 });
    expect(byId.get(completed)).toMatchObject({ status: 'completed', version: 1 });
    expect(byId.get(created)).toMatchObject({ status: 'created', version: 1 });

    const audit = await testDb.orm.em.fork().find(AuditLogSchema, {}, { orderBy: { subjectId: 'asc' } });
    expect(audit.map((row) => [row.actorType, row.actorId, row.action, row.subjectId])).toEqual(
      [staleRunning, staleNeverReported].sort().map((id) => ['system', 'stuck-run-reaper', 'sessions.fail', id]),
    );

    // Already failed: a second tick finds nothing.
    const again = await runHandler(stuckRunReaperJob, testDb.orm, { staleAfterMinutes: 30 });
    expect(again.result.details.failedSessions).toEqual([]);
  });

  it('in a dry run lists what it would fail and changes nothing', async () => {
    const alice = { user: (await createTestUser(testDb.orm.em.fork())).userId };
    const stale = await session('running', { startedMinutesAgo: 90, progressMinutesAgo: 61 }, alice);
    const { result } = await runHandler(stuckRunReaperJob, testDb.orm, { staleAfterMinutes: 60, dryRun: true });
    expect(result).toEqual({
      rowsAffected: 0,
      details: expect.objectContaining({ dryRun: true, failedSessions: [stale], closedRuns: [] }),
    });
    expect(await testDb.orm.em.fork().findOneOrFail(ChatSessionSchema, stale)).toMatchObject({ status: 'running' });
    expect(await testDb.orm.em.fork().count(AuditLogSchema, {})).toBe(0);
  });

  it('deletes finished receipts older than keepRunsDays, keeping newer and unfinished ones', async () => {
    const em = testDb.orm.em.fork();
    const daysAgo = (days: number) => minutesAgo(days * 24 * 60);
    const old = em.create(MaintenanceRunSchema, {
      job: 'stats',
      outcome: 'succeeded',
      startedAt: daysAgo(91),
      finishedAt: daysAgo(91),
    });
    const recent = em.create(MaintenanceRunSchema, {
      job: 'stats',
      outcome: 'failed',
      startedAt: daysAgo(89),
      finishedAt: daysAgo(89),
    });
    await em.flush();
    const dry = await runHandler(stuckRunReaperJob, testDb.orm, { keepRunsDays: 90, dryRun: true });
    expect(dry.result.details.prunedRuns).toBe(1);
    expect(await testDb.orm.em.fork().count(MaintenanceRunSchema, {})).toBe(2);

    const { result } = await runHandler(stuckRunReaperJob, testDb.orm, { keepRunsDays: 90 });
    expect(result.details.prunedRuns).toBe(1);
    const left = await testDb.orm.em.fork().find(MaintenanceRunSchema, {});
    expect(left.map((run) => run.id)).toEqual([recent.id]);
    expect(old.id).not.toBe(recent.id);
  });

  it('closes job-run receipts a dead worker left running, and only those', async () => {
    const em = testDb.orm.em.fork();
    const abandoned = em.create(MaintenanceRunSchema, { job: 'retention', startedAt: minutesAgo(7 * 60) });
    const current = em.create(MaintenanceRunSchema, { job: 'retention', startedAt: minutesAgo(10) });
    const finished = em.create(MaintenanceRunSchema, {
      job: 'stats',
      startedAt: minutesAgo(9 * 60),
      finishedAt: minutesAgo(9 * 60 - 1),
      outcome: 'succeeded',
    });
    await em.flush();

    const { result } = await runHandler(stuckRunReaperJob, testDb.orm, { abandonedRunAfterHours: 6 });
    expect(result.details.closedRuns).toEqual([abandoned.id]);
    const runs = await testDb.orm.em.fork().find(MaintenanceRunSchema, {});
    const byId = new Map(runs.map((run) => [run.id, run]));
    expect(byId.get(abandoned.id)).toMatchObject({
      outcome: 'aborted',
      finishedAt: expect.any(Date),
      error: expect.stringContaining('its worker stopped without recording an outcome'),
    });
    expect(byId.get(current.id)).toMatchObject({ outcome: 'running', finishedAt: null });
    expect(byId.get(finished.id)).toMatchObject({ outcome: 'succeeded' });
  });
});
