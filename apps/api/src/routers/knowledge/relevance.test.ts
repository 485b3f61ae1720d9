import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import type { Principal } from '@threadstore/domain';
import { createTestUser } from '@threadstore/domain/testing';
import { callerAs } from '../../testing/caller.ts';

const testDb = useTestDatabase();

/** A small hand-written corpus in English and Portuguese; each case below names its expected top hits. */
const CORPUS = [
  {
    clientKey: 'en-tea',
    language: 'english',
    title: 'Brewing green tea',
    content: 'Steep the leaves for two minutes in water below boiling.',
    tags: ['drinks'],
  },
  {
    clientKey: 'en-coffee',
    language: 'english',
    title: 'Espresso basics',
    content: 'Grind the beans finely. Running the shot takes about thirty seconds. Tea drinkers may prefer a lungo.',
    tags: ['drinks'],
  },
  {
    clientKey: 'en-runner',
    language: 'english',
    title: 'Marathon training plan',
    content: 'Runners build mileage slowly; long runs happen on weekends.',
    tags: ['sport'],
  },
  {
    clientKey: 'en-lisbon',
    language: 'english',
    title: 'Office guide',
    content: 'The new office in Lisbon opens in March. The old office in Porto closes.',
    tags: ['company'],
  },
  {
    clientKey: 'en-porto',
    language: 'english',
    title: 'Porto wine cellars',
    content: 'Guided tours of the cellars run daily along the river.',
    tags: ['travel'],
  },
  {
    clientKey: 'pt-escritorio',
    language: 'portuguese',
    title: 'Escritórios da empresa',
    content: 'O novo escritório em Lisboa abre em março. Os escritórios antigos fecham.',
    tags: ['company'],
  },
  {
    clientKey: 'pt-cafe',
    language: 'portuguese',
    title: 'Como fazer café',
    content: 'Moer os grãos e coar com água quente. Cafés fortes pedem menos água.',
    tags: ['drinks'],
  },
  {
    clientKey: 'pt-chuva',
    language: 'portuguese',
    title: 'Previsão do tempo',
    content: 'Chuvas fortes são esperadas no fim de semana em Lisboa.',
    tags: ['weather'],
  },
  {
    clientKey: 'simple-codes',
    language: 'simple',
    title: 'Error codes',
    content: 'Code E42 means the sensor is offline; code E7 means low battery.',
    tags: ['support'],
  },
] as const;

describe('knowledge.search relevance on a hand-written corpus', () => {
  let principal: Principal;
  const idOf = new Map<string, string>();
  const keyOf = new Map<string, string>();

  beforeAll(async () => {
    ({ principal } = await createTestUser(testDb.orm.em.fork()));
    const { entries } = await callerAs(testDb.orm, principal).knowledge.import({
      entries: CORPUS.map((entry) => ({ ...entry, tags: [...entry.tags] })),
    });
    for (const entry of entries) {
      idOf.set(entry.clientKey!, entry.id);
      keyOf.set(entry.id, entry.clientKey!);
    }
  });

  async function top(query: string, options: { prefix?: boolean; tags?: string[] } = {}): Promise<string[]> {
    const page = await callerAs(testDb.orm, principal).knowledge.search({ query, ...options });
    return page.items.map((hit) => keyOf.get(hit.entry.id)!);
  }

  it.each([
    // Stemming in the entry's language: "runs"/"running"/"runners" meet "run" in English only.
    ['run', ['en-runner', 'en-coffee', 'en-porto']],
    // Portuguese plural and singular share a stem; accents count.
    ['escritórios', ['pt-escritorio']],
    ['cafés', ['pt-cafe']],
    // A phrase must appear in order; its words apart do not match.
    ['"new office"', ['en-lisbon']],
    ['"office new"', []],
    // Exclusion removes entries containing the word.
    ['office -porto', []],
    ['tea -espresso', ['en-tea']],
    // OR accepts either; everything else still required.
    ['lisbon OR lisboa', ['en-lisbon', 'pt-escritorio', 'pt-chuva']],
    // The simple configuration: codes match as written, no stemming.
    ['e42', ['simple-codes']],
  ])('%s → %j', async (query, expected) => {
    expect((await top(query)).sort()).toEqual([...expected].sort());
  });

  it('ranks a title match above body matches', async () => {
    // "tea" is in en-tea's title, and only in en-coffee's body.
    expect(await top('tea')).toEqual(['en-tea', 'en-coffee']);
    expect((await top('office'))[0]).toBe('en-lisbon');
    expect(await top('porto')).toEqual(['en-porto', 'en-lisbon']);
  });

  it('matches the last word as a prefix as the user types', async () => {
    expect(await top('marat', { prefix: true })).toEqual(['en-runner']);
    expect(await top('marat')).toEqual([]);
    expect(await top('lisb', { prefix: true })).toEqual(
      expect.arrayContaining(['en-lisbon', 'pt-escritorio', 'pt-chuva']),
    );
  });

  it('filters by tags and highlights the matched words in a snippet', async () => {
    expect(await top('lisbon OR lisboa', { tags: ['company'] })).toEqual(
      expect.arrayContaining(['en-lisbon', 'pt-escritorio']),
    );
    expect(await top('lisbon OR lisboa', { tags: ['company'] })).toHaveLength(2);
    const [hit] = (await callerAs(testDb.orm, principal).knowledge.search({ query: '"new office"' })).items;
    expect(hit!.snippet).toContain('<b>new</b> <b>office</b>');
  });
});
