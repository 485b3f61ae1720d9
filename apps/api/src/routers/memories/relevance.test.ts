import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import type { Principal } from '@threadstore/domain';
import { createTestUser } from '@threadstore/domain/testing';
import { callerAs } from '../../testing/caller.ts';
import { expectResultsOrBadRequest } from '../../testing/hostile-queries.ts';

const testDb = useTestDatabase();

/** Memories of one user in English and Portuguese, each stemmed in its own language; keys name them. */
const MEMORIES = [
  ['run', 'english', 'Goes running every morning before breakfast.'],
  ['allergy', 'english', 'Allergic to peanuts; carries an epinephrine pen.'],
  ['lisbon', 'english', 'Moved to the new office in Lisbon in March.'],
  ['porto', 'english', 'Worked at the old office in Porto until last year.'],
  ['hours', 'english', 'Office hours: the office opens at nine, the office closes at six.'],
  ['escritorio', 'portuguese', 'Trabalha no escritório novo em Lisboa.'],
  ['cafe', 'portuguese', 'Gosta de café forte pela manhã.'],
] as const;

describe('memories.search relevance on a hand-written corpus', () => {
  let principal: Principal;
  const keyOf = new Map<string, string>();

  beforeAll(async () => {
    ({ principal } = await createTestUser(testDb.orm.em.fork()));
    const api = callerAs(testDb.orm, principal);
    for (const [key, language, content] of MEMORIES) {
      const { memory } = await api.memories.create({ content, language, key });
      keyOf.set(memory.id, key);
    }
    // Another user's memory with every word searched below: it must never come back.
    const stranger = await createTestUser(testDb.orm.em.fork());
    await callerAs(testDb.orm, stranger.principal).memories.create({
      content: 'office Lisbon Lisboa run peanuts escritório cafés',
    });
  });

  async function top(query: string, prefix = false): Promise<string[]> {
    const { items } = await callerAs(testDb.orm, principal).memories.search({ query, prefix });
    return items.map((hit) => keyOf.get(hit.memory.id)!);
  }

  it.each([
    // Stemming per memory language: "runs" meets "running" in English; plural meets singular in Portuguese.
    ['runs', ['run']],
    ['escritórios', ['escritorio']],
    ['fortes', ['cafe']],
    // Phrases in order only; exclusions remove; OR accepts either.
    ['"new office"', ['lisbon']],
    ['"office new"', []],
    ['office -porto -hours', ['lisbon']],
    ['lisbon OR lisboa', ['escritorio', 'lisbon']],
  ])('%s → %j', async (query, expected) => {
    expect((await top(query)).sort()).toEqual([...expected].sort());
  });

  it('ranks the memory that says the word most often first', async () => {
    expect((await top('office'))[0]).toBe('hours');
    expect(await top('office')).toHaveLength(3);
  });

  it('matches the last word as a prefix as the user types, and only then', async () => {
    expect(await top('epineph', true)).toEqual(['allergy']);
    expect(await top('epineph')).toEqual([]);
    expect(await top('epineph ', true)).toEqual([]);
  });

  it('answers hostile queries with results or a clear BAD_REQUEST', async () => {
    await expectResultsOrBadRequest((query, prefix) =>
      callerAs(testDb.orm, principal).memories.search({ query, prefix }),
    );
    await expect(callerAs(testDb.orm, principal).memories.search({ query: '-only' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });
});
