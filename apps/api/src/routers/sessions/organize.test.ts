import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import type { Principal } from '@threadstore/domain';
import { anonymousPrincipal } from '@threadstore/domain/testing';
import { callerAs } from '../../testing/caller.ts';
import { auditRows, signedInUser } from '../messages/testing.ts';

describe('session tags and pins', () => {
  const testDb = useTestDatabase();

  async function sessions(principal: Principal, count: number) {
    const api = callerAs(testDb.orm, principal);
    const ids: string[] = [];
    for (let i = 0; i < count; i += 1) ids.push((await api.sessions.create({ title: `s${i}` })).id);
    return { api, ids };
  }

  it('tags case-insensitively, untags, filters the list by tag and counts the caller’s tags', async () => {
    const user = await signedInUser(testDb.orm);
    const { api, ids } = await sessions(user, 3);
    const tagged = await api.sessions.tag({ id: ids[0]!, tags: ['Work', ' urgent ', 'work'] });
    expect(tagged.tags).toEqual(['urgent', 'work']);
    const version = tagged.version;
    // Adding tags it has changes nothing (no new version, no audit row).
    expect((await api.sessions.tag({ id: ids[0]!, tags: ['WORK'] })).version).toBe(version);
    await api.sessions.tag({ id: ids[1]!, tags: ['work'] });
    await api.sessions.tag({ id: ids[2]!, tags: ['home'] });
    expect((await api.sessions.list({ tag: 'WORK' })).items.map((s) => s.id).sort()).toEqual([ids[0], ids[1]].sort());
    expect(await api.sessions.tags({})).toEqual({
      items: [
        { tag: 'work', sessions: 2 },
        { tag: 'home', sessions: 1 },
        { tag: 'urgent', sessions: 1 },
      ],
    });
    expect((await api.sessions.untag({ id: ids[0]!, tags: ['Urgent', 'absent'] })).tags).toEqual(['work']);
    await api.sessions.delete({ id: ids[2]! });
    expect((await api.sessions.tags({})).items).toEqual([{ tag: 'work', sessions: 2 }]);
    await expect(api.sessions.tag({ id: ids[0]!, tags: ['  '] })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(
      api.sessions.tag({ id: ids[0]!, tags: Array.from({ length: 32 }, (_, i) => `t${i}`) }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect((await auditRows(testDb.orm, 'sessions.tag')).map((r) => r.details)).toEqual([
      { added: ['urgent', 'work'] },
      { added: ['work'] },
      { added: ['home'] },
    ]);
    // Someone else sees none of it.
    const other = callerAs(testDb.orm, anonymousPrincipal());
    expect(await other.sessions.tags({})).toEqual({ items: [] });
    expect((await other.sessions.list({ tag: 'work' })).items).toEqual([]);
  });

  it('lists pinned sessions first and pages through both parts by keyset without repeats or gaps', async () => {
    const user = anonymousPrincipal();
    const { api, ids } = await sessions(user, 9);
    // Pinned: 1, 4, 7 (in that order of time); the listing is newest activity first in each part.
    for (const index of [1, 4, 7]) await api.sessions.pin({ id: ids[index]! });
    expect((await api.sessions.pin({ id: ids[1]! })).pinnedAt).not.toBeNull();
    const expected = [7, 4, 1, 8, 6, 5, 3, 2, 0].map((i) => ids[i]);

    for (const limit of [1, 2, 3, 4, 9, 10]) {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await api.sessions.list({ orderBy: 'created', limit, cursor });
        seen.push(...page.items.map((s) => s.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      expect(seen, `pages of ${limit}`).toEqual(expected);
    }
    const first = await api.sessions.list({ orderBy: 'created', limit: 3 });
    expect(first.items.map((s) => s.pinnedAt === null)).toEqual([false, false, false]);
    // Unpinning moves a session back among the others.
    await api.sessions.unpin({ id: ids[4]! });
    expect((await api.sessions.list({ orderBy: 'created' })).items.map((s) => s.id)).toEqual(
      [7, 1, 8, 6, 5, 4, 3, 2, 0].map((i) => ids[i]),
    );
    expect((await auditRows(testDb.orm, 'sessions.pin')).length).toBe(3);
    expect((await auditRows(testDb.orm, 'sessions.unpin')).length).toBe(1);
    // A cursor of another listing is refused.
    await expect(api.sessions.list({ orderBy: 'lastActivity', cursor: first.nextCursor! })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });
});
