import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONTENT_LIMITS } from '@threadstore/contract';
import { ChatMessageSchema, ProjectSchema, type MikroORM } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import type { Principal } from '@threadstore/domain';
import { anonymousPrincipal, createTestUser } from '@threadstore/domain/testing';
import { callerAs } from '../../testing/caller.ts';

const testDb = useTestDatabase();

interface AuditRow {
  action: string;
  actor_type: string;
  actor_id: string;
  subject_type: string;
  subject_id: string;
  details: Record<string, unknown>;
}

async function auditOf(orm: MikroORM, sessionId: string): Promise<AuditRow[]> {
  return orm.em
    .fork()
    .execute(
      'select action, actor_type, actor_id, subject_type, subject_id, details from audit_log where subject_id = ? order by id',
      [sessionId],
    );
}

async function rowOf(orm: MikroORM, sessionId: string): Promise<Record<string, unknown> | undefined> {
  const [row] = await orm.em.fork().execute('select * from chat_sessions where id = ?', [sessionId]);
  return row;
}

describe('sessions: create, get, update', () => {
  let principal: Principal;
  let userId: string;
  beforeAll(async () => {
    ({ principal, userId } = await createTestUser(testDb.orm.em.fork()));
  });

  it('creates a session owned by the caller, with server-set status, counters and cost', async () => {
    const api = callerAs(testDb.orm, principal);
    const session = await api.sessions.create({
      title: 'Quarterly plan',
      agentId: 'planner',
      problemStatement: 'Should we expand to Lisbon?',
      context: { budget: 100_000, regions: ['EU'] },
      metadata: { source: 'web' },
    });
    expect(session).toMatchObject({
      owner: 'user',
      title: 'Quarterly plan',
      agentId: 'planner',
      problemStatement: 'Should we expand to Lisbon?',
      context: { budget: 100_000, regions: ['EU'] },
      metadata: { source: 'web' },
      status: 'created',
      round: 0,
      totalCost: '0',
      messageCount: 0,
      lastSeq: 0,
      version: 1,
      projectId: null,
      clientKey: null,
      startedAt: null,
      deletedAt: null,
      archivedAt: null,
    });
    expect(await api.sessions.get({ id: session.id })).toEqual(session);
    const row = await rowOf(testDb.orm, session.id);
    expect(row).toMatchObject({ user_id: userId, anonymous_id: null });
    expect(await auditOf(testDb.orm, session.id)).toEqual([
      {
        action: 'sessions.create',
        actor_type: 'user',
        actor_id: userId,
        subject_type: 'session',
        subject_id: session.id,
        details: { clientKey: null, projectId: null },
      },
    ]);
  });

  it('files a session under one of the caller’s projects', async () => {
    const em = testDb.orm.em.fork();
    const project = em.create(ProjectSchema, { owner: userId, name: 'Expansion' });
    await em.flush();
    const session = await callerAs(testDb.orm, principal).sessions.create({ projectId: project.id });
    expect(session.projectId).toBe(project.id);
  });

  it('refuses a clientKey the caller already uses with a CONFLICT pointing to getOrCreate', async () => {
    const api = callerAs(testDb.orm, principal);
    await api.sessions.create({ clientKey: 'dup-key' });
    await expect(api.sessions.create({ clientKey: 'dup-key', title: 'second' })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('sessions.getOrCreate'),
    });
    const rows = await testDb.orm.em.fork().execute("select id from chat_sessions where client_key = 'dup-key'");
    expect(rows).toHaveLength(1);
  });

  it('updates title, context and metadata, bumping version and last activity', async () => {
    const api = callerAs(testDb.orm, principal);
    const created = await api.sessions.create({ title: 'draft', context: { a: 1 } });
    const updated = await api.sessions.update({
      id: created.id,
      expectedVersion: created.version,
      title: 'final',
      metadata: { tags: ['x'] },
    });
    expect(updated).toMatchObject({ title: 'final', context: { a: 1 }, metadata: { tags: ['x'] }, version: 2 });
    expect(Date.parse(updated.lastActivityAt)).toBeGreaterThanOrEqual(Date.parse(created.lastActivityAt));
    const cleared = await api.sessions.update({ id: created.id, title: null, context: {} });
    expect(cleared).toMatchObject({ title: null, context: {}, metadata: { tags: ['x'] }, version: 3 });
    expect((await auditOf(testDb.orm, created.id)).map((row) => [row.action, row.details])).toEqual([
      ['sessions.create', { clientKey: null, projectId: null }],
      ['sessions.update', { fields: ['title', 'metadata'], fromVersion: 1 }],
      ['sessions.update', { fields: ['title', 'context'], fromVersion: 2 }],
    ]);
  });

  it('answers a stale expectedVersion with a CONFLICT naming the current version, changing nothing', async () => {
    const api = callerAs(testDb.orm, principal);
    const created = await api.sessions.create({ title: 'v1' });
    await api.sessions.update({ id: created.id, title: 'v2' });
    const before = await rowOf(testDb.orm, created.id);
    const stale = api.sessions.update({ id: created.id, expectedVersion: 1, title: 'lost update' });
    await expect(stale).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('version 2, not 1'),
      cause: { details: { expectedVersion: 1, currentVersion: 2 } },
    });
    expect(await rowOf(testDb.orm, created.id)).toEqual(before);
  });

  it('lets exactly one of two concurrent updates with the same expectedVersion win', async () => {
    const api = callerAs(testDb.orm, principal);
    const created = await api.sessions.create({ title: 'base' });
    const results = await Promise.allSettled(
      ['left', 'right'].map((title) => api.sessions.update({ id: created.id, expectedVersion: 1, title })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(
      ['CONFLICT'],
    );
    expect((await api.sessions.get({ id: created.id })).version).toBe(2);
  });

  it('rejects an update that changes nothing', async () => {
    const api = callerAs(testDb.orm, principal);
    const created = await api.sessions.create({});
    await expect(api.sessions.update({ id: created.id })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it.each([
    ['status', 'completed'],
    ['userId', '0197a0b0-0000-7000-8000-000000000000'],
    ['anonymousId', '0197a0b0-0000-7000-8000-000000000000'],
    ['totalCost', '999'],
    ['messageCount', 5],
    ['lastSeq', 5],
    ['version', 7],
    ['createdAt', '2020-01-01T00:00:00.000Z'],
  ])('refuses mass assignment of %s on create and update with BAD_REQUEST', async (field, value) => {
    const api = callerAs(testDb.orm, principal);
    const before = await api.sessions.list({});
    await expect(api.sessions.create({ title: 'sneaky', [field]: value } as never)).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    expect((await api.sessions.list({})).items).toHaveLength(before.items.length);
    const session = await api.sessions.create({ title: 'honest' });
    await expect(
      api.sessions.update({ id: session.id, title: 'sneaky', [field]: value } as never),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(await api.sessions.get({ id: session.id })).toEqual(session);
  });

  it('refuses context and metadata over the JSON limits, and long texts over maxContentBytes, naming the limit', async () => {
    const limits = { ...DEFAULT_CONTENT_LIMITS, maxJsonBytes: 100, maxJsonDepth: 3, maxContentBytes: 50 };
    const api = callerAs(testDb.orm, principal, { limits });
    await expect(api.sessions.create({ context: { blob: 'x'.repeat(200) } })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining('maxJsonBytes'),
      cause: { details: { limit: 'maxJsonBytes', max: 100, field: 'context' } },
    });
    await expect(api.sessions.create({ metadata: { a: { b: { c: {} } } } })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining('maxJsonDepth'),
      cause: { details: { limit: 'maxJsonDepth', max: 3, field: 'metadata' } },
    });
    await expect(api.sessions.create({ problemStatement: 'é'.repeat(26) })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      cause: { details: { limit: 'maxContentBytes', max: 50, actual: 52, field: 'problemStatement' } },
    });
    const session = await api.sessions.create({ metadata: { a: { b: {} } } });
    await expect(api.sessions.update({ id: session.id, context: { a: { b: { c: { d: 1 } } } } })).rejects.toMatchObject(
      { code: 'BAD_REQUEST', cause: { details: { limit: 'maxJsonDepth' } } },
    );
    expect((await api.sessions.get({ id: session.id })).version).toBe(1);
  });

  it('stores NULs and lone surrogates in texts and JSON as U+FFFD, and emoji untouched', async () => {
    const api = callerAs(testDb.orm, principal);
    const session = await api.sessions.create({
      title: 'nul\u0000 here 👩‍👩‍👧',
      problemStatement: 'lone \ud800 surrogate',
      context: { 'key\u0000': 'value\udc00', rtl: 'שלום' },
    });
    expect(session).toMatchObject({
      title: 'nul\uFFFD here 👩‍👩‍👧',
      problemStatement: 'lone \uFFFD surrogate',
      context: { 'key\uFFFD': 'value\uFFFD', rtl: 'שלום' },
    });
    expect(await api.sessions.get({ id: session.id })).toEqual(session);
  });

  it('answers a NUL or a lone surrogate in a key field with BAD_REQUEST naming the field, not a 500', async () => {
    const api = callerAs(testDb.orm, principal);
    const session = await api.sessions.start({ id: (await api.sessions.create({})).id });
    for (const [field, call] of [
      ['clientKey', () => api.sessions.getOrCreate({ clientKey: 'a\u0000b' })],
      ['agentId', () => api.sessions.create({ agentId: 'agent\ud800' })],
      ['phase', () => api.sessions.progress({ id: session.id, phase: 'p\u0000' })],
      ['titleContains', () => api.sessions.list({ titleContains: '\u0000' })],
    ] as const) {
      await expect(call()).rejects.toMatchObject({ code: 'BAD_REQUEST', cause: { issues: [{ path: [field] }] } });
    }
  });
});

describe('sessions.getOrCreate', () => {
  it('returns the same session when called twice, ignoring the second call’s other fields', async () => {
    const { principal } = await createTestUser(testDb.orm.em.fork());
    const api = callerAs(testDb.orm, principal);
    const first = await api.sessions.getOrCreate({ clientKey: 'conv-1', title: 'first' });
    const second = await api.sessions.getOrCreate({ clientKey: 'conv-1', title: 'second' });
    expect(first.created).toBe(true);
    expect(second).toEqual({ created: false, session: first.session });
    expect(first.session).toMatchObject({ clientKey: 'conv-1', title: 'first' });
    expect((await auditOf(testDb.orm, first.session.id)).map((row) => row.action)).toEqual(['sessions.getOrCreate']);
  });

  it('creates exactly one session under 10 concurrent calls, and all of them return it', async () => {
    const { principal, userId } = await createTestUser(testDb.orm.em.fork());
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        callerAs(testDb.orm, principal).sessions.getOrCreate({ clientKey: 'race', title: `caller ${i}` }),
      ),
    );
    expect(new Set(results.map((r) => r.session.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const rows = await testDb.orm.em.fork().execute('select id from chat_sessions where user_id = ?', [userId]);
    expect(rows).toEqual([{ id: results[0]!.session.id }]);
    expect(await auditOf(testDb.orm, results[0]!.session.id)).toHaveLength(1);
  });

  it('works for anonymous visitors, keeping their keys apart from everyone else’s', async () => {
    const visitor = anonymousPrincipal();
    const other = anonymousPrincipal();
    const mine = await callerAs(testDb.orm, visitor).sessions.getOrCreate({ clientKey: 'shared-name' });
    const again = await callerAs(testDb.orm, visitor).sessions.getOrCreate({ clientKey: 'shared-name' });
    const theirs = await callerAs(testDb.orm, other).sessions.getOrCreate({ clientKey: 'shared-name' });
    expect(mine.session.owner).toBe('anonymous');
    expect(again.session.id).toBe(mine.session.id);
    expect(theirs.created).toBe(true);
    expect(theirs.session.id).not.toBe(mine.session.id);
    expect(await rowOf(testDb.orm, mine.session.id)).toMatchObject({
      anonymous_id: visitor.anonymousId,
      user_id: null,
    });
    expect(await auditOf(testDb.orm, mine.session.id)).toMatchObject([
      { action: 'sessions.getOrCreate', actor_type: 'anonymous', actor_id: visitor.anonymousId },
    ]);
  });

  it('answers CONFLICT while the session with that key is in the bin', async () => {
    const api = callerAs(testDb.orm, anonymousPrincipal());
    const { session } = await api.sessions.getOrCreate({ clientKey: 'binned' });
    await api.sessions.delete({ id: session.id });
    await expect(api.sessions.getOrCreate({ clientKey: 'binned' })).rejects.toMatchObject({
      code: 'CONFLICT',
      cause: { details: { field: 'clientKey', sessionId: session.id } },
    });
    await api.sessions.restore({ id: session.id });
    expect((await api.sessions.getOrCreate({ clientKey: 'binned' })).session.id).toBe(session.id);
  });
});

describe('sessions: archive, delete, restore, purge', () => {
  it('archives and unarchives without touching last activity, idempotently', async () => {
    const api = callerAs(testDb.orm, anonymousPrincipal());
    const session = await api.sessions.create({ title: 'to file away' });
    const archived = await api.sessions.archive({ id: session.id });
    expect(archived.archivedAt).not.toBeNull();
    expect(archived.lastActivityAt).toBe(session.lastActivityAt);
    expect(await api.sessions.archive({ id: session.id })).toEqual(archived);
    const unarchived = await api.sessions.unarchive({ id: session.id });
    expect(unarchived).toMatchObject({ archivedAt: null, lastActivityAt: session.lastActivityAt });
    expect((await auditOf(testDb.orm, session.id)).map((row) => row.action)).toEqual([
      'sessions.create',
      'sessions.archive',
      'sessions.unarchive',
    ]);
  });

  it('soft-deletes: the session is NOT_FOUND and listed only in the bin, until restored as it was', async () => {
    const api = callerAs(testDb.orm, anonymousPrincipal());
    const session = await api.sessions.create({ title: 'oops' });
    await api.sessions.start({ id: session.id });
    const deleted = await api.sessions.delete({ id: session.id });
    expect(deleted).toMatchObject({ status: 'running', deletedAt: expect.any(String) });
    expect(await api.sessions.delete({ id: session.id })).toEqual(deleted);
    await expect(api.sessions.get({ id: session.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(api.sessions.update({ id: session.id, title: 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(api.sessions.kill({ id: session.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await api.sessions.list({})).items).toEqual([]);
    expect((await api.sessions.list({ deleted: true })).items.map((s) => s.id)).toEqual([session.id]);

    const restored = await api.sessions.restore({ id: session.id });
    expect(restored).toMatchObject({ status: 'running', deletedAt: null, title: 'oops' });
    expect(await api.sessions.get({ id: session.id })).toEqual(restored);
    expect((await api.sessions.list({ deleted: true })).items).toEqual([]);
    expect((await auditOf(testDb.orm, session.id)).map((row) => row.action)).toEqual([
      'sessions.create',
      'sessions.start',
      'sessions.delete',
      'sessions.restore',
    ]);
  });

  it('purges a session with all its messages, live or deleted, and leaves the audit trail', async () => {
    const visitor = anonymousPrincipal();
    const api = callerAs(testDb.orm, visitor);
    const doomed = await api.sessions.create({ title: 'doomed' });
    const binned = await api.sessions.create({ title: 'binned' });
    const kept = await api.sessions.create({ title: 'kept' });
    const em = testDb.orm.em.fork();
    for (const [session, count] of [
      [doomed, 3],
      [binned, 2],
      [kept, 1],
    ] as const) {
      for (let seq = 1; seq <= count; seq++) {
        em.create(ChatMessageSchema, { session: session.id, seq, role: 'user', content: `message ${seq}` });
      }
    }
    await em.flush();
    await api.sessions.delete({ id: binned.id });

    expect(await api.sessions.purge({ id: doomed.id })).toEqual({ id: doomed.id, messagesPurged: 3 });
    expect(await api.sessions.purge({ id: binned.id })).toEqual({ id: binned.id, messagesPurged: 2 });
    await expect(api.sessions.purge({ id: doomed.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });

    const remaining = await testDb.orm.em
      .fork()
      .execute<{ session_id: string; count: number }[]>(
        'select session_id, count(*)::int as count from chat_messages where session_id in (?, ?, ?) group by session_id',
        [doomed.id, binned.id, kept.id],
      );
    expect(remaining).toEqual([{ session_id: kept.id, count: 1 }]);
    expect(await rowOf(testDb.orm, doomed.id)).toBeUndefined();
    expect(await auditOf(testDb.orm, doomed.id)).toMatchObject([
      { action: 'sessions.create' },
      {
        action: 'sessions.purge',
        actor_type: 'anonymous',
        actor_id: visitor.anonymousId,
        details: { messagesPurged: 3 },
      },
    ]);
  });
});
