import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import type { Principal } from '@threadstore/domain';
import { createTestUser } from '@threadstore/domain/testing';
import { callerAs } from '../../testing/caller.ts';
import { expectResultsOrBadRequest } from '../../testing/hostile-queries.ts';

const testDb = useTestDatabase();

describe('knowledge entries', () => {
  let principal: Principal;
  let userId: string;
  beforeAll(async () => {
    ({ principal, userId } = await createTestUser(testDb.orm.em.fork()));
  });

  it('creates, reads, updates (re-indexing) and soft-deletes an entry, auditing each change', async () => {
    const api = callerAs(testDb.orm, principal);
    const project = await api.projects.create({ name: 'kb' });
    const entry = await api.knowledge.create({
      title: 'Deploy guide',
      content: '# Deploy\nRun the **migrations** first.',
      tags: ['ops'],
      sourceUrl: 'https://example.test/deploy',
      projectId: project.id,
      language: 'english',
    });
    expect(entry).toMatchObject({
      sourceType: 'url',
      tags: ['ops'],
      projectId: project.id,
      version: 1,
      contentLength: 38,
    });
    expect(await api.knowledge.get({ id: entry.id })).toEqual(entry);
    expect((await api.knowledge.search({ query: 'migration' })).items.map((hit) => hit.entry.id)).toEqual([entry.id]);

    const updated = await api.knowledge.update({ id: entry.id, expectedVersion: 1, content: 'Rollback steps only.' });
    expect(updated.version).toBe(2);
    expect((await api.knowledge.search({ query: 'migration' })).items).toEqual([]);
    expect((await api.knowledge.search({ query: 'rollback', projectId: project.id })).items).toHaveLength(1);
    await expect(api.knowledge.update({ id: entry.id, expectedVersion: 1, title: 'late' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    const moved = await api.knowledge.update({ id: entry.id, projectId: null });
    expect(moved.projectId).toBeNull();
    expect((await api.knowledge.search({ query: 'rollback', projectId: project.id })).items).toEqual([]);
    expect((await api.knowledge.list({ projectId: project.id })).items).toEqual([]);

    await api.knowledge.delete({ id: entry.id });
    await expect(api.knowledge.get({ id: entry.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await api.knowledge.search({ query: 'rollback' })).items).toEqual([]);
    await expect(api.knowledge.delete({ id: entry.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });

    const audit = await testDb.orm.em
      .fork()
      .execute<{ action: string; actor_id: string }[]>(
        `select action, actor_id from audit_log where subject_type = 'knowledge_entry' and subject_id = ? order by id`,
        [entry.id],
      );
    expect(audit.map((row) => row.action)).toEqual([
      'knowledge.create',
      'knowledge.update',
      'knowledge.update',
      'knowledge.delete',
    ]);
    expect(audit.every((row) => row.actor_id === userId)).toBe(true);
  });

  it('imports all or nothing, idempotently by clientKey', async () => {
    const { principal: owner } = await createTestUser(testDb.orm.em.fork());
    const api = callerAs(testDb.orm, owner);
    const entries = [
      { clientKey: 'a', title: 'Alpha', content: 'first' },
      { clientKey: 'b', title: 'Beta', content: 'second' },
    ];
    const first = await api.knowledge.import({ entries });
    expect(first).toMatchObject({ created: 2, existing: 0 });
    const again = await api.knowledge.import({
      entries: [...entries, { clientKey: 'c', title: 'Gamma', content: 'third' }],
    });
    expect(again).toMatchObject({ created: 1, existing: 2 });
    expect(again.entries.slice(0, 2)).toEqual(first.entries);

    // One bad entry (a foreign project) and nothing of the batch is stored.
    const before = (await api.knowledge.list({})).items.length;
    await expect(
      api.knowledge.import({
        entries: [
          { clientKey: 'd', title: 'Delta', content: 'x' },
          { clientKey: 'e', title: 'Epsilon', content: 'x', projectId: '00000000-0000-4000-8000-000000000001' },
        ],
      }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      api.knowledge.import({
        entries: [
          { clientKey: 'd', title: 'Delta', content: 'x' },
          { clientKey: 'e', title: 'Epsilon', content: 'bad \u0000 byte' },
        ],
      }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect((await api.knowledge.list({})).items).toHaveLength(before);
  });

  it('keeps every word of a 5 MB entry searchable, to its very end', async () => {
    const { principal: owner } = await createTestUser(testDb.orm.em.fork());
    const api = callerAs(testDb.orm, owner);
    // Varied words, so the body's tsvector would be far over PostgreSQL's 1 MB limit as one piece.
    const words: string[] = [];
    let size = 0;
    for (let i = 0; size < 5 * 1024 * 1024; i += 1) {
      const word = `w${(i * 7919) % 400_000}x`;
      words.push(word);
      size += word.length + 1;
    }
    const content = `${words.join(' ')} zanzibarite`;
    const entry = await api.knowledge.create({ title: 'Huge', content });
    expect(entry.contentLength).toBe(content.length);
    const page = await api.knowledge.search({ query: 'zanzibarite' });
    expect(page.items.map((hit) => hit.entry.id)).toEqual([entry.id]);
    expect(page.items[0]!.snippet).toContain('<b>zanzibarite</b>');
    expect((await api.knowledge.search({ query: words[words.length >> 1]! })).items).toHaveLength(1);
  }, 120_000);

  it('pages over the ranking by keyset without repeating or skipping', async () => {
    const { principal: owner } = await createTestUser(testDb.orm.em.fork());
    const api = callerAs(testDb.orm, owner);
    await api.knowledge.import({
      entries: Array.from({ length: 25 }, (_, i) => ({
        clientKey: `k${i}`,
        title: i % 5 === 0 ? 'Atlas' : `Doc ${i}`,
        content: `atlas ${'atlas '.repeat(i % 3)} filler ${i}`,
      })),
    });
    const seen: string[] = [];
    let cursor: string | undefined;
    let ranks: number[] = [];
    do {
      const page = await api.knowledge.search({ query: 'atlas', limit: 4, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((hit) => hit.entry.id));
      ranks = [...ranks, ...page.items.map((hit) => hit.rank)];
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
    expect(ranks).toEqual([...ranks].sort((a, b) => b - a));
    await expect(api.knowledge.search({ query: 'other', cursor: 'garbage' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('answers every hostile query with results or a clear BAD_REQUEST, never anything else', async () => {
    const { principal: owner } = await createTestUser(testDb.orm.em.fork());
    const api = callerAs(testDb.orm, owner);
    await api.knowledge.create({
      title: 'The thing',
      content: 'quotes " and \' and (parens) & pipes | and colons: here',
    });
    await expectResultsOrBadRequest((query, prefix) => api.knowledge.search({ query, prefix }));
    expect((await api.knowledge.search({ query: 'the and of to' })).items).toEqual([]);
    expect((await api.knowledge.search({ query: 'parens pipes' })).items).toHaveLength(1);
    await expect(api.knowledge.search({ query: '' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});
