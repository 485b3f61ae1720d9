import { describe, expect, it } from 'vitest';
import { ChatSessionSchema } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { appendMessages, ownerOf, searchMessages } from '@threadstore/domain';
import { actorFor, anonymousPrincipal } from '@threadstore/domain/testing';
import { createLogger } from '@threadstore/runtime';
import { runHandler } from '../test/job-context.ts';
import { testWorkerConfig } from '../test/worker-fixture.ts';
import { searchIndexJob as searchIndexDefinition } from '@threadstore/jobs';
import { handle } from './jobs/contract.ts';
import { indexQueuedMessages } from './jobs/search-index/handler.ts';
import { startSearchIndexer } from './search-indexer.ts';
import { startWorker } from './worker.ts';

const searchIndexJob = handle(searchIndexDefinition, indexQueuedMessages);

const logger = createLogger('search-indexer-test', 'silent');
class Rollback extends Error {}
/** The API's defaults (the worker does not depend on the contract package). */
const LIMITS: Parameters<typeof appendMessages>[3] = {
  maxContentBytes: 256 * 1024,
  maxJsonBytes: 64 * 1024,
  maxJsonDepth: 16,
  maxBatchSize: 1_000,
  defaultPageSize: 50,
  maxPageSize: 200,
};

describe('the search indexer', () => {
  const testDb = useTestDatabase();
  const visitor = anonymousPrincipal();

  async function appendTo(contents: string[]): Promise<string> {
    const em = testDb.orm.em.fork();
    const session = em.create(ChatSessionSchema, { anonymousId: visitor.anonymousId });
    await em.flush();
    await appendMessages(
      testDb.orm.em.fork(),
      actorFor(visitor),
      { sessionId: session.id, messages: contents.map((content) => ({ role: 'user' as const, content })) },
      LIMITS,
    );
    return session.id;
  }

  const search = (query: string) =>
    searchMessages(testDb.orm.em.fork(), ownerOf(visitor), { query, prefix: false }, LIMITS);
  const queued = async () =>
    Number(
      (await testDb.orm.em.fork().execute<{ n: string }[]>('select count(*) as n from chat_message_search_queue'))[0]!
        .n,
    );

  it("makes a running worker's appends searchable within seconds, without any job being sent", async () => {
    const worker = await startWorker({
      orm: testDb.orm,
      logger,
      jobs: [searchIndexJob],
      // The cron backstop off, so only the loop can have indexed what is found.
      config: testWorkerConfig(testDb.db, [searchIndexJob], {
        SEARCH_INDEX_INTERVAL_MS: '200',
        JOB_SCHEDULES: '{"search-index":"off"}',
      }),
    });
    try {
      await appendTo(['a capybara in the hot spring', 'nothing to see']);
      // Generous: the machine running the suite may be busy; the loop itself wakes every 200 ms.
      const deadline = Date.now() + 30_000;
      let found = (await search('capybara')).items;
      while (found.length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        found = (await search('capybara')).items;
      }
      expect(found.map((hit) => hit.message.content)).toEqual(['a capybara in the hot spring']);
    } finally {
      await worker.stop();
    }
    expect(await queued()).toBe(0);
  });

  it('runs its loops side by side: one held up does not stop the other', async () => {
    await testDb.orm.em.fork().execute('delete from chat_message_search_queue');
    const sessionId = await appendTo(['a narwhal', 'another narwhal']);
    // The indexer takes the lower id first.
    const [held, behind] = (
      await testDb.orm.em
        .fork()
        .execute<{ id: string }[]>('select id from chat_messages where session_id = ? order by id', [sessionId])
    ).map((row) => row.id);
    const found = async () => (await search('narwhal')).items.map((hit) => hit.message.id).sort();
    const waitFor = async (ids: string[]) => {
      const deadline = Date.now() + 30_000;
      while ((await found()).length < ids.length && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await found()).toEqual(ids.sort());
    };
    let indexer: ReturnType<typeof startSearchIndexer> | undefined;
    try {
      // An uncommitted search entry for the first message: the loop whose batch takes it waits on
      // the entry's unique key until this transaction ends. With one loop, nothing else would be
      // indexed meanwhile; with two, the other takes the next message.
      await testDb.orm.em
        .fork()
        .transactional(async (tx) => {
          await tx.execute(
            `insert into chat_message_search (message_id, session_id, search_vector) values (?, ?, ''::tsvector)`,
            [held, sessionId],
          );
          indexer = startSearchIndexer({ orm: testDb.orm, logger, intervalMs: 50, batchSize: 1, loops: 2 });
          await waitFor([behind!]);
          throw new Rollback();
        })
        .catch((error: unknown) => {
          if (!(error instanceof Rollback)) throw error;
        });
      // The entry rolled back, the held loop indexes its message.
      await waitFor([held!, behind!]);
    } finally {
      await indexer?.stop();
    }
  });

  it('the search-index job drains the queue in batches and says how many it indexed', async () => {
    await appendTo(Array.from({ length: 25 }, (_, i) => `okapi number ${i}`));
    expect(await queued()).toBe(25);
    const { result } = await runHandler(searchIndexJob, testDb.orm, { batchSize: 10 });
    expect(result).toEqual({
      rowsAffected: 25,
      details: { taken: 25, indexed: 25, batches: 3, stoppedEarly: false },
    });
    expect(await queued()).toBe(0);
    expect((await search('okapi')).items).toHaveLength(25);
  });
});
