import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import { drainSearchQueue, type Principal } from '@threadstore/domain';
import { callerAs } from '../../testing/caller.ts';
import { createSession, signedInUser } from './testing.ts';

const testDb = useTestDatabase();

/**
 * One user's messages in English and Portuguese, in two sessions. Messages have no language: they
 * are indexed in the language-neutral `simple` configuration, so words match as written (no
 * stemming) and as-you-type prefixes reach their other forms.
 */
const MESSAGES = {
  due: 'The quarterly report is due on Friday.',
  planning: 'Quarterly planning moved to Monday; the report can wait.',
  numbers: 'Report, report, report: the numbers in the report look fine.',
  entregue: 'O relatório trimestral foi entregue na sexta.',
  atrasados: 'Os relatórios mensais estão atrasados.',
} as const;

describe('messages.search relevance on a hand-written corpus', () => {
  let principal: Principal;
  const keyOf = new Map<string, string>();

  beforeAll(async () => {
    principal = await signedInUser(testDb.orm);
    const api = callerAs(testDb.orm, principal);
    const sessions = [await createSession(testDb.orm, principal), await createSession(testDb.orm, principal)];
    for (const [index, [key, content]] of Object.entries(MESSAGES).entries()) {
      const message = await api.messages.append({ sessionId: sessions[index % 2]!, role: 'user', content });
      keyOf.set(message.id, key);
    }
    // A stranger's message holding every word searched below: it must never come back.
    const stranger = await signedInUser(testDb.orm);
    await callerAs(testDb.orm, stranger).messages.append({
      sessionId: await createSession(testDb.orm, stranger),
      role: 'user',
      content: 'quarterly report relatório relatórios trimestral friday',
    });
    await drainSearchQueue(testDb.orm.em.fork(), { batchSize: 100 });
  });

  async function top(query: string, prefix = false): Promise<string[]> {
    const { items } = await callerAs(testDb.orm, principal).messages.search({ query, prefix });
    return items.map((hit) => keyOf.get(hit.message.id)!);
  }

  it.each([
    ['"quarterly report"', ['due']],
    ['"report quarterly"', []],
    ['report -quarterly', ['numbers']],
    ['quarterly OR trimestral', ['due', 'entregue', 'planning']],
    // No stemming: the singular does not find the plural…
    ['relatório', ['entregue']],
    ['relatórios', ['atrasados']],
  ])('%s → %j', async (query, expected) => {
    expect((await top(query)).sort()).toEqual([...expected].sort());
  });

  it('…but as-you-type prefixes do, and only while the word is being typed', async () => {
    expect((await top('relat', true)).sort()).toEqual(['atrasados', 'entregue']);
    expect(await top('relat')).toEqual([]);
  });

  it('ranks the message that says the word most often first, and snippets mark the matches', async () => {
    expect(await top('report')).toEqual(['numbers', expect.any(String), expect.any(String)]);
    const { items } = await callerAs(testDb.orm, principal).messages.search({ query: '"quarterly report"' });
    expect(items[0]!.snippet).toContain('«quarterly» «report»');
  });
});
