import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import { memoriesContext, type Principal } from '@threadstore/domain';
import { anonymousPrincipal, createTestUser } from '@threadstore/domain/testing';
import { callerAs } from '../../testing/caller.ts';

const testDb = useTestDatabase();

describe('memories', () => {
  let principal: Principal;
  let userId: string;
  beforeAll(async () => {
    ({ principal, userId } = await createTestUser(testDb.orm.em.fork()));
  });

  it('never overwrites: an update is a new version, the old one closed at the same instant', async () => {
    const api = callerAs(testDb.orm, principal);
    const { memory, created } = await api.memories.create({ content: 'Lives in Porto', importance: 0.7 });
    expect(created).toBe(true);
    expect(memory).toMatchObject({ version: 1, kind: 'long_term', subject: 'user', validTo: null, expiresAt: null });
    const moved = await api.memories.update({ id: memory.id, expectedVersion: 1, content: 'Lives in Lisbon' });
    expect(moved).toMatchObject({ id: memory.id, version: 2, content: 'Lives in Lisbon', importance: 0.7 });
    const history = (await api.memories.history({ id: memory.id })).items;
    expect(history.map((v) => v.content)).toEqual(['Lives in Porto', 'Lives in Lisbon']);
    expect(history[0]!.validTo).toBe(moved.validFrom);
    expect(history[0]!.supersededBy).toBe(moved.versionId);
    expect(await api.memories.get({ id: memory.id, asOf: memory.validFrom })).toMatchObject({
      content: 'Lives in Porto',
    });
    expect(await api.memories.get({ id: memory.id })).toMatchObject({ content: 'Lives in Lisbon' });
    await expect(api.memories.update({ id: memory.id, expectedVersion: 1, importance: 1 })).rejects.toMatchObject({
      code: 'CONFLICT',
    });

    const { deletedAt } = await api.memories.delete({ id: memory.id });
    await expect(api.memories.get({ id: memory.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await api.memories.get({ id: memory.id, asOf: moved.validFrom })).toMatchObject({
      content: 'Lives in Lisbon',
    });
    expect((await api.memories.history({ id: memory.id })).items.at(-1)!.validTo).toBe(deletedAt);

    const audit = await testDb.orm.em
      .fork()
      .execute<{ action: string; actor_id: string }[]>(
        `select action, actor_id from audit_log where subject_type = 'memory' and subject_id = ? order by id`,
        [memory.id],
      );
    expect(audit).toEqual([
      { action: 'memories.create', actor_id: userId },
      { action: 'memories.update', actor_id: userId },
      { action: 'memories.delete', actor_id: userId },
    ]);
  });

  it('returns the existing memory for the same normalised content and subject, concurrently too', async () => {
    const { principal: owner } = await createTestUser(testDb.orm.em.fork());
    const api = callerAs(testDb.orm, owner);
    const results = await Promise.all(
      ['Prefers  tea', 'prefers tea', ' PREFERS TEA ', 'Prefers tea'].map((content) =>
        api.memories.create({ content }),
      ),
    );
    expect(new Set(results.map((r) => r.memory.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    // Another subject, or another key, is another memory.
    expect((await api.memories.create({ content: 'prefers tea', subject: 'user.partner' })).created).toBe(true);
    expect((await api.memories.create({ content: 'prefers tea', key: 'drink' })).created).toBe(true);
    // An update onto another current memory's content is refused.
    const other = await api.memories.create({ content: 'prefers coffee' });
    await expect(api.memories.update({ id: other.memory.id, content: 'Prefers Tea' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });

  it('keeps provenance ids after the message and session are purged', async () => {
    const { principal: owner } = await createTestUser(testDb.orm.em.fork());
    const api = callerAs(testDb.orm, owner);
    const session = await api.sessions.create({});
    const message = await api.messages.append({ sessionId: session.id, role: 'user', content: 'I am vegetarian' });
    const { memory } = await api.memories.create({ content: 'is vegetarian', sourceMessageId: message.id });
    expect(memory).toMatchObject({ sourceSessionId: session.id, sourceMessageId: message.id });
    await api.sessions.delete({ id: session.id });
    await api.sessions.purge({ id: session.id });
    expect(await api.memories.get({ id: memory.id })).toMatchObject({
      sourceSessionId: session.id,
      sourceMessageId: message.id,
    });
    await expect(api.memories.create({ content: 'x', sourceMessageId: message.id })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('gives short-term and episodic memories the expiry of the retention policies', async () => {
    const { principal: owner, userId: ownerId } = await createTestUser(testDb.orm.em.fork());
    const api = callerAs(testDb.orm, owner);
    const days = (iso: string | null, from: string) => (Date.parse(iso!) - Date.parse(from)) / 86_400_000;
    const short = (await api.memories.create({ content: 'in a hurry today', kind: 'short_term' })).memory;
    expect(days(short.expiresAt, short.createdAt)).toBeCloseTo(1, 2);
    await testDb.orm.em
      .fork()
      .execute(
        `insert into retention_policies (scope, user_id, target, keep_for_days) values ('user', ?, 'episodic_memories', 7)`,
        [ownerId],
      );
    const episode = (await api.memories.create({ content: 'visited the dentist', kind: 'episodic' })).memory;
    expect(days(episode.expiresAt, episode.createdAt)).toBeCloseTo(7, 2);
    const promoted = await api.memories.update({ id: episode.id, kind: 'long_term' });
    expect(promoted.expiresAt).toBeNull();
  });

  it('searches current memories in web-search syntax and lists them by project', async () => {
    const { principal: owner } = await createTestUser(testDb.orm.em.fork());
    const api = callerAs(testDb.orm, owner);
    const project = await api.projects.create({ name: 'trip' });
    await api.memories.create({ content: 'Allergic to peanuts', language: 'english' });
    await api.memories.create({ content: 'Booked a hotel near the beach', projectId: project.id, language: 'english' });
    expect(
      (await api.memories.search({ query: 'allergic OR hotels' })).items.map((h) => h.memory.content).sort(),
    ).toEqual(['Allergic to peanuts', 'Booked a hotel near the beach']);
    expect((await api.memories.search({ query: 'hotel -beach' })).items).toEqual([]);
    expect((await api.memories.list({ projectId: project.id })).items.map((m) => m.content)).toEqual([
      'Booked a hotel near the beach',
    ]);
  });
});

describe('memories.context', () => {
  it('ranks by relevance, importance and recency, scoped to project and agent, within a token budget', async () => {
    const { principal } = await createTestUser(testDb.orm.em.fork());
    const api = callerAs(testDb.orm, principal);
    const project = await api.projects.create({ name: 'ctx' });
    const other = await api.projects.create({ name: 'other' });
    const create = (content: string, extra: Record<string, unknown> = {}) =>
      api.memories.create({ content, language: 'english', ...extra });
    await create('Prefers vegetarian restaurants', { importance: 0.5 });
    await create('Has a dog named Rex', { importance: 0.9 });
    await create('Works on the Lisbon office launch', { projectId: project.id, importance: 0.5 });
    await create('Secret of the other project', { projectId: other.id, importance: 1 });
    await create('Agent note: answer in Portuguese', { agentId: 'planner', importance: 0.5 });

    const context = await api.memories.context({
      query: 'Any restaurants near the Lisbon office?',
      projectId: project.id,
    });
    const contents = context.items.map((item) => item.memory.content);
    expect(contents.slice(0, 2).sort()).toEqual(
      ['Prefers vegetarian restaurants', 'Works on the Lisbon office launch'].sort(),
    );
    expect(contents).toContain('Has a dog named Rex');
    expect(contents).not.toContain('Secret of the other project');
    expect(contents).not.toContain('Agent note: answer in Portuguese');
    const withAgent = await api.memories.context({ query: '', projectId: project.id, agent: 'planner' });
    expect(withAgent.items.map((item) => item.memory.content)).toContain('Agent note: answer in Portuguese');
    // Without a query, importance leads.
    expect(withAgent.items[0]!.memory.content).toBe('Has a dog named Rex');

    const budgeted = await api.memories.context({ query: 'restaurants', tokenBudget: 10 });
    expect(budgeted.tokens).toBeLessThanOrEqual(10);
    expect(budgeted.items.map((item) => item.memory.content)).toEqual(['Prefers vegetarian restaurants']);
    expect((await api.memories.context({ limit: 1 })).items).toHaveLength(1);
  });

  it('is a domain function the conversation loop can call, empty for anonymous visitors', async () => {
    const { principal } = await createTestUser(testDb.orm.em.fork());
    await callerAs(testDb.orm, principal).memories.create({ content: 'Likes jazz' });
    const em = testDb.orm.em.fork();
    expect((await memoriesContext(em, principal, { query: 'music jazz' })).items.map((i) => i.memory.content)).toEqual([
      'Likes jazz',
    ]);
    expect(await memoriesContext(em, anonymousPrincipal(), { query: 'jazz' })).toEqual({ items: [], tokens: 0 });
    expect((await callerAs(testDb.orm, anonymousPrincipal()).memories.context({ query: 'x' })).items).toEqual([]);
    // A long prompt full of syntax is not refused.
    const prompt = `${'"(quoted) & -minus OR '.repeat(500)} jazz`;
    expect((await memoriesContext(em, principal, { query: prompt })).items).toHaveLength(1);
  });
});
