import { describe, expect, it } from 'vitest';
import type { TMessage } from '@threadstore/contract';
import { useTestDatabase } from '@threadstore/db/testing';
import { callerAs } from '../../testing/caller.ts';
import { createSession, signedInUser } from './testing.ts';

const contents = (items: readonly TMessage[]) => items.map((message) => message.content);

describe('messages.thread', () => {
  const testDb = useTestDatabase();

  /**
   *   root ─ question ─┬─ answer A ─ follow-up A
   *                    └─ answer B (a regenerated answer: a branch)
   */
  async function branchedConversation() {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user);
    const say = (content: string, parent?: TMessage) =>
      api.messages.append({ sessionId, role: 'user', content, parentId: parent?.id });
    const root = await say('root');
    const question = await say('question', root);
    const answerA = await say('answer A', question);
    const answerB = await say('answer B', question);
    const followUpA = await say('follow-up A', answerA);
    return { api, sessionId, root, question, answerA, answerB, followUpA };
  }

  it('walks from the root down to the message, along its own branch only', async () => {
    const { api, followUpA, answerB, root } = await branchedConversation();

    expect(await api.messages.thread({ id: followUpA.id })).toEqual({
      items: [expect.objectContaining({ content: 'root' }), ...[1, 2, 3].map(() => expect.any(Object))],
      truncated: false,
    });
    expect(contents((await api.messages.thread({ id: followUpA.id })).items)).toEqual([
      'root',
      'question',
      'answer A',
      'follow-up A',
    ]);
    expect(contents((await api.messages.thread({ id: answerB.id })).items)).toEqual(['root', 'question', 'answer B']);
    expect(await api.messages.thread({ id: root.id })).toEqual({ items: [root], truncated: false });
  });

  it('stops after limit steps and says the path goes on', async () => {
    const { api, followUpA } = await branchedConversation();
    const short = await api.messages.thread({ id: followUpA.id, limit: 2 });
    expect([contents(short.items), short.truncated]).toEqual([['answer A', 'follow-up A'], true]);
    const exact = await api.messages.thread({ id: followUpA.id, limit: 4 });
    expect([contents(exact.items), exact.truncated]).toEqual([['root', 'question', 'answer A', 'follow-up A'], false]);
  });

  it('walks through a deleted ancestor without returning it, and is NOT_FOUND for a deleted message', async () => {
    const { api, question, followUpA } = await branchedConversation();
    await api.messages.delete({ id: question.id });
    expect(contents((await api.messages.thread({ id: followUpA.id })).items)).toEqual([
      'root',
      'answer A',
      'follow-up A',
    ]);
    await expect(api.messages.thread({ id: question.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses a parent from another session, so a thread never leaves its session', async () => {
    const { api, root } = await branchedConversation();
    const user = await signedInUser(testDb.orm);
    const otherSessionId = await createSession(testDb.orm, user);
    // Another session of the same owner: still not a parent this message may have.
    await expect(
      api.messages.append({ sessionId: otherSessionId, role: 'user', content: 'x', parentId: root.id }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const ownApi = callerAs(testDb.orm, user);
    const otherRoot = await ownApi.messages.append({ sessionId: otherSessionId, role: 'user', content: 'mine' });
    const sameOwnerSession = await createSession(testDb.orm, user);
    await expect(
      ownApi.messages.append({ sessionId: sameOwnerSession, role: 'user', content: 'x', parentId: otherRoot.id }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST', message: 'parentId must be a visible message of the same session' });
  });
});
