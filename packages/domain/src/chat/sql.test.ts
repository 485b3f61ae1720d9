import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTENT_LIMITS } from '@threadstore/contract';
import { ChatSessionSchema } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { appendMessage } from '../messages/append.ts';
import { query } from '../messages/sql.ts';
import { actorFor, createTestUser } from '../testing/index.ts';
import { finishTurn, insertTurn, type Holder } from './sql.ts';

describe('finishing an answer', () => {
  const testDb = useTestDatabase();

  it('queues it for search again even while an indexer batch holds its placeholder, so the final text is indexed', async () => {
    const em = testDb.orm.em.fork();
    const { principal } = await createTestUser(em);
    const actor = actorFor(principal);
    const session = em.create(ChatSessionSchema, { user: principal.userId });
    await em.flush();
    const question = await appendMessage(
      em,
      actor,
      { sessionId: session.id, role: 'user', content: 'why?' },
      DEFAULT_CONTENT_LIMITS,
    );
    // The answer's empty placeholder, queued for search as every append is.
    const answer = await appendMessage(
      em,
      actor,
      { sessionId: session.id, role: 'assistant', content: '' },
      DEFAULT_CONTENT_LIMITS,
    );

    // The writer's lease is its own listening connection; an indexer batch is another transaction.
    const pool = await testDb.orm.em.getConnection().getNativeClient();
    const [writer, indexer] = await Promise.all([pool.connect(), pool.connect()]);
    try {
      const { rows } = await writer.query<{ pid: number; started_at: string }>(
        `select pid, backend_start::text as started_at from pg_stat_activity where pid = pg_backend_pid()`,
      );
      const holder: Holder = { pid: rows[0]!.pid, startedAt: rows[0]!.started_at };
      const turnId = await insertTurn(em, {
        sessionId: session.id,
        userMessageId: question.id,
        assistantMessageId: answer.id,
        clientMessageId: null,
        status: 'running',
        holder,
      });

      // A batch takes the placeholder (as the indexer does: FOR UPDATE SKIP LOCKED) and is busy
      // indexing its empty text while the answer is finished. The real batch locks and deletes in
      // one statement, so this window is a moment there; the test holds it open.
      await indexer.query('begin');
      const taken = await indexer.query(
        `select message_id from chat_message_search_queue where message_id = $1 for update skip locked`,
        [answer.id],
      );
      expect(taken.rowCount).toBe(1);
      const finished = finishTurn(testDb.orm.em.fork(), turnId, answer.id, holder, {
        content: 'because pangolins',
        sanitized: false,
        turnStatus: 'completed',
        generationStatus: 'complete',
        stopReason: null,
        model: 'test',
        promptTokens: 1,
        completionTokens: 2,
        latencyMs: 3,
        price: null,
        context: {},
        audit: { actorType: 'user', actorId: principal.userId, requestId: null },
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      await indexer.query(`delete from chat_message_search_queue where message_id = $1`, [answer.id]);
      await indexer.query('commit');

      expect(await finished).toBe(true);
      const queued = await query<{ message_id: string }>(
        testDb.orm.em.fork(),
        `select message_id from chat_message_search_queue where message_id = $1`,
        [answer.id],
      );
      expect(queued).toEqual([{ message_id: answer.id }]);
    } finally {
      await indexer.query('rollback').catch(() => undefined);
      writer.release();
      indexer.release();
    }
  });
});
