import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTENT_LIMITS } from '@threadstore/contract';
import { ChatSessionSchema, type EntityManager } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { actorFor, createTestUser } from '../testing/index.ts';
import type { Actor } from '../principal.ts';
import { appendMessage } from './append.ts';
import { editMessage } from './edit.ts';
import { importMessages } from './import.ts';
import { indexQueuedMessages } from './search-index.ts';
import { query } from './sql.ts';

describe('the search indexer takes what people write before a bulk import’s backlog', () => {
  const testDb = useTestDatabase();

  async function setUp(): Promise<{ em: EntityManager; actor: Actor; sessionId: string }> {
    const em = testDb.orm.em.fork();
    // The indexer takes from the whole queue: start each case from an empty one.
    await query(em, 'delete from chat_message_search_queue', []);
    const { userId, principal } = await createTestUser(em);
    const session = em.create(ChatSessionSchema, { user: userId });
    await em.flush();
    return { em, actor: actorFor(principal), sessionId: session.id };
  }

  /** Imports `count` messages into the session through messages.import's path; their ids, in line order. */
  async function importInto(actor: Actor, sessionId: string, prefix: string, count: number): Promise<string[]> {
    const lines = Array.from({ length: count }, (_, i) =>
      JSON.stringify({ sessionId, role: 'user', content: `${prefix} line ${i}`, clientMessageId: `${prefix}-${i}` }),
    );
    async function* body() {
      yield Buffer.from(`${lines.join('\n')}\n`);
    }
    const result = await importMessages(testDb.orm.em.fork(), actor, body(), DEFAULT_CONTENT_LIMITS);
    expect(result.imported).toBe(count);
    const rows = await query<{ id: string }>(
      testDb.orm.em.fork(),
      `select id from chat_messages where session_id = $1 and client_message_id like $2 order by seq`,
      [sessionId, `${prefix}-%`],
    );
    return rows.map((row) => row.id);
  }

  const indexedIds = async (ids: string[]): Promise<string[]> =>
    (
      await query<{ message_id: string }>(
        testDb.orm.em.fork(),
        `select message_id from chat_message_search where message_id = any($1::uuid[]) order by message_id`,
        [ids],
      )
    ).map((row) => row.message_id);
  const queued = async (): Promise<{ bulk: boolean; n: number }[]> =>
    query(
      testDb.orm.em.fork(),
      `select bulk, count(*)::int as n from chat_message_search_queue group by bulk order by bulk`,
      [],
    );

  it('indexes an append made between two imports in the next batch, whatever ids the backlog holds around it', async () => {
    const { actor, sessionId } = await setUp();
    // Imported ids older and newer than the append's (UUIDv7: time-ordered), so neither end of
    // the queue is the append.
    const before = await importInto(actor, sessionId, 'early', 200);
    const appended = await appendMessage(
      testDb.orm.em.fork(),
      actor,
      { sessionId, role: 'user', content: 'written while importing' },
      DEFAULT_CONTENT_LIMITS,
    );
    const after = await importInto(actor, sessionId, 'late', 200);
    expect(await queued()).toEqual([
      { bulk: false, n: 1 },
      { bulk: true, n: 400 },
    ]);

    const batch = await indexQueuedMessages(testDb.orm.em.fork(), 10);

    expect(batch).toEqual({ taken: 10, indexed: 10 });
    // The append, then the backlog's oldest (lowest ids: UUIDv7 orders by the millisecond only).
    expect(await indexedIds([appended.id, ...before, ...after])).toEqual(
      [appended.id, ...before.toSorted().slice(0, 9)].sort(),
    );
    expect(await queued()).toEqual([{ bulk: true, n: 391 }]);
  });

  it('takes only interactive ids while they fill the batch, then fills it from the backlog', async () => {
    const { actor, sessionId } = await setUp();
    const imported = await importInto(actor, sessionId, 'bulk', 5);
    const appended: string[] = [];
    for (const content of ['one', 'two', 'three'])
      appended.push(
        (await appendMessage(testDb.orm.em.fork(), actor, { sessionId, role: 'user', content }, DEFAULT_CONTENT_LIMITS))
          .id,
      );

    expect(await indexQueuedMessages(testDb.orm.em.fork(), 2)).toEqual({ taken: 2, indexed: 2 });
    expect(await indexedIds([...imported, ...appended])).toEqual(appended.slice(0, 2).sort());
    expect(await indexQueuedMessages(testDb.orm.em.fork(), 2)).toEqual({ taken: 2, indexed: 2 });
    expect(await indexedIds([...imported, ...appended])).toEqual([...appended, imported.toSorted()[0]!].sort());
    expect(await queued()).toEqual([{ bulk: true, n: 4 }]);
  });

  it('moves an imported message to the front when it is edited before its turn, and indexes the new text', async () => {
    const { actor, sessionId } = await setUp();
    const imported = await importInto(actor, sessionId, 'draft', 50);
    const edited = imported[30]!;
    await editMessage(
      testDb.orm.em.fork(),
      actor,
      { id: edited, content: 'rewritten pangolin' },
      DEFAULT_CONTENT_LIMITS,
    );
    expect(await queued()).toEqual([
      { bulk: false, n: 1 },
      { bulk: true, n: 49 },
    ]);

    expect(await indexQueuedMessages(testDb.orm.em.fork(), 1)).toEqual({ taken: 1, indexed: 1 });

    const [hit] = await query<{ message_id: string }>(
      testDb.orm.em.fork(),
      `select message_id from chat_message_search where search_vector @@ to_tsquery('simple', 'pangolin')`,
      [],
    );
    expect(hit?.message_id).toBe(edited);
  });
});
