import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTENT_LIMITS } from '@threadstore/contract';
import { FTS_SOURCE_CHARS } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { drainSearchQueue, indexQueuedMessages } from '@threadstore/domain';
import { callerAs } from '../../testing/caller.ts';
import { expectResultsOrBadRequest } from '../../testing/hostile-queries.ts';
import { createSession, signedInUser, softDeleteSession } from './testing.ts';

describe('messages.search', () => {
  const testDb = useTestDatabase();
  const indexNow = () => drainSearchQueue(testDb.orm.em.fork(), { batchSize: 1_000 });

  async function userWithSession() {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    return { user, sessionId, api: callerAs(testDb.orm, user) };
  }

  it('finds a message once the indexer has run, not before: indexing is off the append path', async () => {
    const { sessionId, api } = await userWithSession();
    const stored = await api.messages.append({ sessionId, role: 'user', content: 'The quokka smiles at dawn' });
    expect((await api.messages.search({ query: 'quokka' })).items).toEqual([]);

    expect(await indexNow()).toMatchObject({ taken: expect.any(Number), indexed: expect.any(Number) });
    const { items, nextCursor } = await api.messages.search({ query: 'quokka' });
    expect(items).toEqual([{ message: stored, rank: expect.any(Number), snippet: '«quokka» smiles at dawn' }]);
    expect(nextCursor).toBeNull();
  });

  it('understands web-search syntax: all words, phrases, OR, exclusion, prefix as the user types', async () => {
    const { sessionId, api } = await userWithSession();
    await api.messages.appendMany({
      sessionId,
      messages: [
        { role: 'user', content: 'red apple pie' },
        { role: 'user', content: 'green apple tart' },
        { role: 'user', content: 'pie made of red cherries' },
        { role: 'user', content: 'apple red' },
      ],
    });
    await indexNow();
    const contents = async (query: string) =>
      (await api.messages.search({ query })).items.map((hit) => hit.message.content).sort();
    expect(await contents('red apple')).toEqual(['apple red', 'red apple pie']);
    expect(await contents('"red apple"')).toEqual(['red apple pie']);
    expect(await contents('tart OR cherries')).toEqual(['green apple tart', 'pie made of red cherries']);
    expect(await contents('apple -red')).toEqual(['green apple tart']);
    expect(await contents('apple -"red apple"')).toEqual(['apple red', 'green apple tart']);
    const typed = async (query: string) =>
      (await api.messages.search({ query, prefix: true })).items.map((hit) => hit.message.content).sort();
    expect(await typed('red cher')).toEqual(['pie made of red cherries']);
    expect(await typed('red cher ')).toEqual([]);
    expect(await contents('cher')).toEqual([]);
  });

  it('filters by project and by a date range, and answers a foreign project NOT_FOUND', async () => {
    const { sessionId, api } = await userWithSession();
    const project = await api.projects.create({ name: 'Moons' });
    const inProject = (await api.sessions.create({ projectId: project.id })).id;
    const old = await api.messages.append({ sessionId, role: 'user', content: 'europa ice, long ago' });
    const recent = await api.messages.append({ sessionId, role: 'user', content: 'europa ice, recently' });
    const projected = await api.messages.append({ sessionId: inProject, role: 'user', content: 'europa in a project' });
    await testDb.orm.em
      .fork()
      .execute(`update chat_messages set created_at = '2026-01-01T00:00:00Z' where id = ?`, [old.id]);
    await indexNow();
    const ids = async (filters: Omit<Parameters<typeof api.messages.search>[0], 'query'>) =>
      (await api.messages.search({ query: 'europa', ...filters })).items.map((hit) => hit.message.id).sort();

    expect(await ids({ projectId: project.id })).toEqual([projected.id]);
    expect(await ids({ createdBefore: '2026-06-01T00:00:00Z' })).toEqual([old.id]);
    expect(await ids({ createdAfter: '2026-06-01T00:00:00Z' })).toEqual([recent.id, projected.id].sort());
    expect(
      await ids({
        createdAfter: '2025-12-31T00:00:00Z',
        createdBefore: '2026-01-02T00:00:00+00:00',
        projectId: project.id,
      }),
    ).toEqual([]);
    // A hit carries where to open the history around it.
    const [hit] = (await api.messages.search({ query: 'europa', projectId: project.id })).items;
    expect(hit!.message).toMatchObject({ sessionId: inProject, seq: projected.seq });

    const stranger = await userWithSession();
    const strangerProject = await stranger.api.projects.create({ name: 'Elsewhere' });
    await expect(api.messages.search({ query: 'europa', projectId: strangerProject.id })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(stranger.api.messages.search({ query: 'europa', projectId: project.id })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('filters by session, role and chapter, and answers a foreign or missing session NOT_FOUND', async () => {
    const { user, sessionId, api } = await userWithSession();
    const other = await createSession(testDb.orm, user);
    await api.messages.append({ sessionId, role: 'user', content: 'orbit question', chapter: 'space' });
    await api.messages.append({ sessionId, role: 'assistant', content: 'orbit answer', chapter: 'space' });
    await api.messages.append({ sessionId, role: 'assistant', content: 'orbit aside' });
    await api.messages.append({ sessionId: other, role: 'user', content: 'orbit elsewhere' });
    await indexNow();
    const contents = async (filters: Omit<Parameters<typeof api.messages.search>[0], 'query'>) =>
      (await api.messages.search({ query: 'orbit', ...filters })).items.map((hit) => hit.message.content).sort();

    expect(await contents({})).toHaveLength(4);
    expect(await contents({ sessionId: other })).toEqual(['orbit elsewhere']);
    expect(await contents({ sessionId, role: 'assistant' })).toEqual(['orbit answer', 'orbit aside']);
    expect(await contents({ chapter: 'space', role: 'user' })).toEqual(['orbit question']);
    // A session of the caller's without a match is an empty page; one that is not theirs is not found.
    expect(await contents({ sessionId: other, role: 'assistant' })).toEqual([]);
    const stranger = await userWithSession();
    await expect(stranger.api.messages.search({ query: 'orbit', sessionId })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('pages through every hit by rank with a cursor, each hit once, and refuses a cursor of another search', async () => {
    const { sessionId, api } = await userWithSession();
    // Ranks differ by how often the word occurs; several share a rank, which the id then orders.
    await api.messages.appendMany({
      sessionId,
      messages: Array.from({ length: 23 }, (_, i) => ({
        role: 'user' as const,
        content: `${'lantern '.repeat((i % 5) + 1)}number ${i}`,
      })),
    });
    await indexNow();
    const seen: { id: string; rank: number }[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await api.messages.search({ query: 'lantern', limit: 5, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((hit) => ({ id: hit.message.id, rank: hit.rank })));
      cursor = page.nextCursor ?? undefined;
      pages += 1;
    } while (cursor !== undefined);
    expect(pages).toBe(5);
    expect(new Set(seen.map((hit) => hit.id)).size).toBe(23);
    const ranks = seen.map((hit) => hit.rank);
    expect(ranks).toEqual([...ranks].sort((a, b) => b - a));

    const first = await api.messages.search({ query: 'lantern', limit: 5 });
    await expect(api.messages.search({ query: 'number', limit: 5, cursor: first.nextCursor! })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(api.messages.search({ query: 'lantern', cursor: 'not-a-cursor' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('never shows a deleted message, a message of a deleted session, or a purged one', async () => {
    const { user, sessionId, api } = await userWithSession();
    const kept = await api.messages.append({ sessionId, role: 'user', content: 'walrus kept' });
    const deleted = await api.messages.append({ sessionId, role: 'user', content: 'walrus deleted' });
    const hidden = await createSession(testDb.orm, user);
    await api.messages.append({ sessionId: hidden, role: 'user', content: 'walrus in a deleted session' });
    const purged = await createSession(testDb.orm, user);
    await api.messages.append({ sessionId: purged, role: 'user', content: 'walrus purged' });
    await indexNow();

    await api.messages.delete({ id: deleted.id });
    await softDeleteSession(testDb.orm, hidden);
    await api.sessions.purge({ id: purged });
    expect((await api.messages.search({ query: 'walrus' })).items.map((hit) => hit.message)).toEqual([kept]);
    // A purge takes the session's search entries with it.
    const [left] = await testDb.orm.em
      .fork()
      .execute<{ count: string }[]>('select count(*) from chat_message_search where session_id = ?', [purged]);
    expect(Number(left!.count)).toBe(0);
  });

  it('skips a message deleted before its turn in the queue, and indexes text beyond the vector size limit', async () => {
    const { user, sessionId, api } = await userWithSession();
    const early = await api.messages.append({ sessionId, role: 'user', content: 'ephemeral heron' });
    await api.messages.delete({ id: early.id });
    // 120,000 distinct words would make a tsvector over PostgreSQL's 1 MB limit (error 54000).
    const huge = Array.from({ length: 120_000 }, (_, i) => `w${i}`).join(' ');
    expect(huge.length).toBeGreaterThan(FTS_SOURCE_CHARS);
    // A server configured for messages that large (the default limit is 256 KiB).
    const roomy = callerAs(testDb.orm, user, { limits: { ...DEFAULT_CONTENT_LIMITS, maxContentBytes: 2 ** 21 } });
    const big = await roomy.messages.append({ sessionId, role: 'assistant', content: `heron ${huge}` });

    const batch = await indexQueuedMessages(testDb.orm.em.fork(), 1_000);
    expect(batch.taken).toBeGreaterThanOrEqual(2);
    const { items } = await api.messages.search({ query: 'heron' });
    expect(items.map((hit) => hit.message.id)).toEqual([big.id]);
    expect(items[0]!.snippet.length).toBeLessThan(1_000);
  });

  it('answers hostile queries with results or a clear BAD_REQUEST, never an error of the server', async () => {
    const { sessionId, api } = await userWithSession();
    await api.messages.append({ sessionId, role: 'user', content: 'the and of "quoted" text' });
    await indexNow();
    await expectResultsOrBadRequest((query, prefix) => api.messages.search({ query, prefix }));
    for (const query of ['', 'x'.repeat(1_001), 'a\0b', '& | ! ( ) :* <->', '-only']) {
      await expect(api.messages.search({ query })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    }
    // Unbalanced quotes run to the end; tsquery operators are separators; 'simple' keeps stop words.
    for (const query of ['"quoted text', "quoted' & !text", 'the and of', 'OR OR quoted OR', '"" quoted ""']) {
      expect((await api.messages.search({ query })).items, query).toHaveLength(1);
    }
  });
});
