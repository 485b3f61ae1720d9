import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTENT_LIMITS } from '@threadstore/contract';
import { ChatSessionSchema } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { actorFor, createTestUser } from '../testing/index.ts';
import { appendMessage } from './append.ts';
import { messageHistory } from './history.ts';

describe('appendMessage inside a caller’s transaction', () => {
  const testDb = useTestDatabase();

  it('answers a replayed key with the stored message and leaves the transaction usable', async () => {
    const em = testDb.orm.em.fork();
    const { userId, principal } = await createTestUser(em);
    const session = em.create(ChatSessionSchema, { user: userId });
    await em.flush();
    const actor = actorFor(principal);
    const message = { sessionId: session.id, role: 'user' as const, content: 'once', clientMessageId: 'k' };

    const [first, replay, next] = await em.transactional(async (tx) => [
      await appendMessage(tx, actor, message, DEFAULT_CONTENT_LIMITS),
      // This one's statement fails on the unique key; only its savepoint is rolled back.
      await appendMessage(tx, actor, message, DEFAULT_CONTENT_LIMITS),
      await appendMessage(tx, actor, { ...message, content: 'next', clientMessageId: 'l' }, DEFAULT_CONTENT_LIMITS),
    ]);

    expect(replay).toEqual(first);
    expect(next.seq).toBe(2);
    const page = await messageHistory(
      testDb.orm.em.fork(),
      { userId },
      { sessionId: session.id },
      DEFAULT_CONTENT_LIMITS,
    );
    expect(page.items.map(({ seq, content }) => [seq, content])).toEqual([
      [1, 'once'],
      [2, 'next'],
    ]);
  });

  it('rolls back with the caller’s transaction: no message, no seq used', async () => {
    const em = testDb.orm.em.fork();
    const { userId, principal } = await createTestUser(em);
    const session = em.create(ChatSessionSchema, { user: userId });
    await em.flush();

    await expect(
      em.transactional(async (tx) => {
        await appendMessage(
          tx,
          actorFor(principal),
          { sessionId: session.id, role: 'user', content: 'doomed' },
          DEFAULT_CONTENT_LIMITS,
        );
        throw new Error('the caller changes its mind');
      }),
    ).rejects.toThrow('the caller changes its mind');

    const fresh = testDb.orm.em.fork();
    expect(await fresh.findOneOrFail(ChatSessionSchema, session.id)).toMatchObject({ lastSeq: 0, messageCount: 0 });
    expect(await messageHistory(fresh, { userId }, { sessionId: session.id }, DEFAULT_CONTENT_LIMITS)).toMatchObject({
      items: [],
    });
  });
});
