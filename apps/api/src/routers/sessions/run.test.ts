import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONTENT_LIMITS, type TSession, type TSessionStatus } from '@threadstore/contract';
import { useTestDatabase } from '@threadstore/db/testing';
import type { Principal } from '@threadstore/domain';
import { anonymousPrincipal, createTestUser } from '@threadstore/domain/testing';
import { callerAs } from '../../testing/caller.ts';

const testDb = useTestDatabase();

type Api = ReturnType<typeof callerAs>;
type Action = 'start' | 'progress' | 'complete' | 'fail' | 'kill';

const ACTIONS: Action[] = ['start', 'progress', 'complete', 'fail', 'kill'];
const STATUSES: TSessionStatus[] = ['created', 'running', 'completed', 'failed', 'killed'];

/** The lifecycle as the issue states it, written out independently of the implementation's table. */
const LEGAL: Record<TSessionStatus, Partial<Record<Action, TSessionStatus>>> = {
  created: { start: 'running', fail: 'failed', kill: 'killed' },
  running: { progress: 'running', complete: 'completed', fail: 'failed', kill: 'killed' },
  completed: {},
  failed: {},
  killed: {},
};
const TARGET: Record<Action, TSessionStatus> = {
  start: 'running',
  progress: 'running',
  complete: 'completed',
  fail: 'failed',
  kill: 'killed',
};
const VERB: Record<Action, string> = {
  start: 'start',
  progress: 'report progress on',
  complete: 'complete',
  fail: 'fail',
  kill: 'kill',
};

function perform(api: Api, action: Action, id: string): Promise<TSession> {
  switch (action) {
    case 'start':
      return api.sessions.start({ id });
    case 'progress':
      return api.sessions.progress({ id, phase: 'research', round: 2, addCost: '0.25' });
    case 'complete':
      return api.sessions.complete({ id, synthesis: 'done', finalRecommendation: 'go' });
    case 'fail':
      return api.sessions.fail({ id, error: 'provider down' });
    case 'kill':
      return api.sessions.kill({ id });
  }
}

/** A fresh session brought to `status` by legal steps. */
async function sessionIn(api: Api, status: TSessionStatus): Promise<TSession> {
  const session = await api.sessions.create({ title: `in ${status}` });
  if (status === 'created') return session;
  const running = await api.sessions.start({ id: session.id });
  if (status === 'running') return running;
  return perform(api, status === 'completed' ? 'complete' : status === 'failed' ? 'fail' : 'kill', session.id);
}

async function rowOf(id: string): Promise<Record<string, unknown> | undefined> {
  const [row] = await testDb.orm.em.fork().execute('select * from chat_sessions where id = ?', [id]);
  return row;
}

async function auditCount(id: string): Promise<number> {
  const [row] = await testDb.orm.em
    .fork()
    .execute<{ count: number }[]>('select count(*)::int as count from audit_log where subject_id = ?', [id]);
  return row!.count;
}

describe('the run lifecycle', () => {
  let principal: Principal;
  beforeAll(async () => {
    ({ principal } = await createTestUser(testDb.orm.em.fork()));
  });

  const pairs = STATUSES.flatMap((from) => ACTIONS.map((action) => [from, action] as const));

  it.each(pairs.filter(([from, action]) => LEGAL[from][action] !== undefined))(
    'from %s, %s succeeds, moves the status and writes an audit row',
    async (from, action) => {
      const api = callerAs(testDb.orm, principal);
      const before = await sessionIn(api, from);
      const audits = await auditCount(before.id);
      const after = await perform(api, action, before.id);
      expect(after.status).toBe(LEGAL[from][action]);
      expect(after.version).toBe(before.version + 1);
      expect(Date.parse(after.lastActivityAt)).toBeGreaterThanOrEqual(Date.parse(before.lastActivityAt));
      expect(await api.sessions.get({ id: before.id })).toEqual(after);
      expect(await auditCount(before.id)).toBe(audits + 1);
    },
  );

  it.each(pairs.filter(([from, action]) => LEGAL[from][action] === undefined))(
    'from %s, %s is a CONFLICT naming both states, and changes nothing',
    async (from, action) => {
      const api = callerAs(testDb.orm, principal);
      const session = await sessionIn(api, from);
      const row = await rowOf(session.id);
      const audits = await auditCount(session.id);
      await expect(perform(api, action, session.id)).rejects.toMatchObject({
        code: 'CONFLICT',
        message: `cannot ${VERB[action]} a session that is ${from}`,
        cause: { details: { from, to: TARGET[action] } },
      });
      expect(await rowOf(session.id)).toEqual(row);
      expect(await auditCount(session.id)).toBe(audits);
    },
  );

  it('records what each step says: start and progress times, phase, round, cost, the outcome', async () => {
    const api = callerAs(testDb.orm, anonymousPrincipal());
    const session = await api.sessions.create({});
    const started = await api.sessions.start({ id: session.id });
    expect(started).toMatchObject({ status: 'running', startedAt: expect.any(String), finishedAt: null });
    expect(started.lastProgressAt).toBe(started.startedAt);

    const progressed = await api.sessions.progress({ id: session.id, phase: 'debate', round: 3, addCost: '1.5' });
    expect(progressed).toMatchObject({ phase: 'debate', round: 3, totalCost: '1.5' });
    expect(Date.parse(progressed.lastProgressAt!)).toBeGreaterThanOrEqual(Date.parse(started.startedAt!));
    const costOnly = await api.sessions.progress({ id: session.id, addCost: '0.0000000001' });
    expect(costOnly).toMatchObject({ phase: 'debate', round: 3, totalCost: '1.5000000001' });

    const completed = await api.sessions.complete({
      id: session.id,
      synthesis: '<synthesis/>',
      finalRecommendation: 'Expand',
    });
    expect(completed).toMatchObject({
      status: 'completed',
      synthesis: '<synthesis/>',
      finalRecommendation: 'Expand',
      finishedAt: expect.any(String),
      error: null,
    });

    const failed = await api.sessions.fail({ id: (await api.sessions.create({})).id, error: 'no credits' });
    expect(failed).toMatchObject({ status: 'failed', error: 'no credits', startedAt: null });
  });

  it('writes the two states of every step into the audit log', async () => {
    const api = callerAs(testDb.orm, principal);
    const session = await api.sessions.create({});
    await api.sessions.start({ id: session.id });
    await api.sessions.progress({ id: session.id, phase: 'p', addCost: '2' });
    await api.sessions.kill({ id: session.id });
    const rows = await testDb.orm.em
      .fork()
      .execute<{ action: string; details: unknown }[]>(
        'select action, details from audit_log where subject_id = ? order by id',
        [session.id],
      );
    expect(rows).toEqual([
      { action: 'sessions.create', details: { clientKey: null, projectId: null } },
      { action: 'sessions.start', details: { from: 'created', to: 'running' } },
      {
        action: 'sessions.progress',
        details: { from: 'running', to: 'running', phase: 'p', round: null, addCost: '2' },
      },
      { action: 'sessions.kill', details: { from: 'running', to: 'killed' } },
    ]);
  });

  it('sums 50 concurrent cost additions exactly', async () => {
    const api = callerAs(testDb.orm, principal);
    const session = await api.sessions.start({ id: (await api.sessions.create({})).id });
    // 1.0000000001 + 2.0000000001 + … + 50.0000000001: binary floats could not hold these.
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        callerAs(testDb.orm, principal).sessions.progress({ id: session.id, addCost: `${i + 1}.0000000001` }),
      ),
    );
    const after = await api.sessions.get({ id: session.id });
    expect(after.totalCost).toBe('1275.000000005');
    expect(after.version).toBe(session.version + 50);
  });

  it('lets only one of two racing starts through', async () => {
    const api = callerAs(testDb.orm, principal);
    const session = await api.sessions.create({});
    const results = await Promise.allSettled([
      api.sessions.start({ id: session.id }),
      api.sessions.start({ id: session.id }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
    expect(rejected.reason).toMatchObject({ code: 'CONFLICT', message: 'cannot start a session that is running' });
  });

  it('refuses a negative or malformed cost and a text over maxContentBytes with BAD_REQUEST', async () => {
    const api = callerAs(testDb.orm, principal);
    const session = await api.sessions.start({ id: (await api.sessions.create({})).id });
    for (const addCost of ['-1', '1e3', '0.12345678901', 'NaN']) {
      await expect(api.sessions.progress({ id: session.id, addCost })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    }
    const small = callerAs(testDb.orm, principal, { limits: { ...DEFAULT_CONTENT_LIMITS, maxContentBytes: 10 } });
    await expect(small.sessions.complete({ id: session.id, synthesis: 'x'.repeat(11) })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      cause: { details: { limit: 'maxContentBytes', field: 'synthesis' } },
    });
    expect((await api.sessions.get({ id: session.id })).status).toBe('running');
  });

  it('answers a total past numeric(20,10) with BAD_REQUEST and keeps the total it had', async () => {
    const api = callerAs(testDb.orm, principal);
    const session = await api.sessions.start({ id: (await api.sessions.create({})).id });
    await api.sessions.progress({ id: session.id, addCost: '9999999999' });
    await expect(api.sessions.progress({ id: session.id, addCost: '1' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    expect((await api.sessions.get({ id: session.id })).totalCost).toBe('9999999999');
  });
});
