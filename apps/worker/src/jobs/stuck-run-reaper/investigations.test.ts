import { describe, expect, it } from 'vitest';
import { AuditLogSchema, InvestigationSchema, type InvestigationStatus } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { createTestUser } from '@threadstore/domain/testing';
import { runHandler } from '../../../test/job-context.ts';
import { stuckRunReaperJob } from '@threadstore/jobs';

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);

describe('the stuck-run reaper on investigations', () => {
  const testDb = useTestDatabase();

  it('fails only running investigations without progress for the configured time, saying why', async () => {
    const owner = (await createTestUser(testDb.orm.em.fork())).userId;
    const em = testDb.orm.em.fork();
    const investigation = (
      status: InvestigationStatus,
      startedMinutesAgo: number | null,
      progressMinutesAgo: number | null,
    ) =>
      em.create(InvestigationSchema, {
        owner,
        title: status,
        query: 'q',
        status,
        startedAt: startedMinutesAgo === null ? null : minutesAgo(startedMinutesAgo),
        lastProgressAt: progressMinutesAgo === null ? null : minutesAgo(progressMinutesAgo),
      });
    const stale = investigation('running', 120, 45);
    const neverReported = investigation('running', 40, null);
    const fresh = investigation('running', 120, 5);
    const open = investigation('open', null, null);
    const completed = investigation('completed', 300, 200);
    await em.flush();

    const dry = await runHandler(stuckRunReaperJob, testDb.orm, { staleAfterMinutes: 30, dryRun: true });
    expect([...(dry.result.details.failedInvestigations as string[])].sort()).toEqual(
      [stale.id, neverReported.id].sort(),
    );
    expect(await testDb.orm.em.fork().count(InvestigationSchema, { status: 'failed' })).toBe(0);

    const { result } = await runHandler(stuckRunReaperJob, testDb.orm, { staleAfterMinutes: 30 });
    expect([...(result.details.failedInvestigations as string[])].sort()).toEqual([stale.id, neverReported.id].sort());
    const rows = await testDb.orm.em.fork().find(InvestigationSchema, {});
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const { id } of [stale, neverReported]) {
      expect(byId.get(id)).toMatchObject({
        status: 'failed',
        error: 'no progress for 30 minutes; failed by the stuck-run reaper',
        completedAt: expect.any(Date),
      });
    }
    expect(byId.get(fresh.id)).toMatchObject({ status: 'running', error: null });
    expect(byId.get(open.id)).toMatchObject({ status: 'open' });
    expect(byId.get(completed.id)).toMatchObject({ status: 'completed' });
    const audit = await testDb.orm.em.fork().find(AuditLogSchema, { action: 'investigations.fail' });
    expect(audit.map((row) => [row.actorId, row.subjectId]).sort()).toEqual(
      [stale.id, neverReported.id].sort().map((id) => ['stuck-run-reaper', id]),
    );
    const again = await runHandler(stuckRunReaperJob, testDb.orm, { staleAfterMinutes: 30 });
    expect(again.result.details.failedInvestigations).toEqual([]);
  });
});
