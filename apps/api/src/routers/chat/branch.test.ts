import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TChatTurn } from '@threadstore/contract';
import { useTestDatabase } from '@threadstore/db/testing';
import { createTestUser } from '@threadstore/domain/testing';
import { TRPCError } from '@trpc/server';
import type { Live } from '../../live/live.ts';
import { callerAs } from '../../testing/caller.ts';
import { startTestLive } from '../../testing/live.ts';

describe('chat.send with editOf: an edited question answered on a branch of its own', () => {
  const testDb = useTestDatabase();
  let live: Live;

  beforeAll(async () => {
    live = await startTestLive(testDb.orm);
  });
  afterAll(() => live?.stop());

  async function chat() {
    const { principal } = await createTestUser(testDb.orm.em.fork());
    const api = callerAs(testDb.orm, principal, { live });
    const session = await api.sessions.create({ title: 'branches' });
    const send = (content: string, editOf?: string) =>
      api.chat.send({ sessionId: session.id, content, ...(editOf === undefined ? {} : { editOf }) });
    return { api, sessionId: session.id, send };
  }

  /** The ids of what the model was given for a turn's answer. */
  const prompt = (turn: TChatTurn) => (turn.context as { messageIds: string[] }).messageIds;
  const pair = (turn: TChatTurn) => [turn.userMessage.id, turn.answer!.id];

  it('leaves the old question and answer on their branch and keeps them out of the new branch’s prompts', async () => {
    const { api, send } = await chat();
    const one = await send('one');
    const two = await send('two');
    const three = await send('three');

    const better = await send('two, better', two.userMessage.id);
    expect(better.status).toBe('completed');
    expect(better.userMessage).toMatchObject({ editOf: two.userMessage.id, parentId: one.answer!.id, version: 1 });
    expect(prompt(better)).toEqual([...pair(one), better.userMessage.id]);
    // The old branch is untouched, and each branch reads back through parentId.
    expect(await api.messages.get({ id: two.userMessage.id })).toEqual(two.userMessage);
    expect((await api.messages.thread({ id: two.answer!.id })).items.map((m) => m.id)).toEqual(pair(two));
    expect((await api.messages.thread({ id: better.answer!.id })).items.map((m) => m.id)).toEqual([
      ...pair(one),
      ...pair(better),
    ]);

    // Going on after the edit follows the new branch.
    const four = await send('four');
    expect(prompt(four)).toEqual([...pair(one), ...pair(better), four.userMessage.id]);

    // Editing the very first question starts the conversation anew.
    const restart = await send('one, again', one.userMessage.id);
    expect(restart.userMessage).toMatchObject({ editOf: one.userMessage.id, parentId: null });
    expect(prompt(restart)).toEqual([restart.userMessage.id]);
    const five = await send('five');
    expect(prompt(five)).toEqual([...pair(restart), five.userMessage.id]);

    // Editing a question of an abandoned branch answers it with that branch's own history.
    const threeAgain = await send('three, again', three.userMessage.id);
    expect(prompt(threeAgain)).toEqual([...pair(one), ...pair(two), threeAgain.userMessage.id]);

    // History still lists every branch, by seq.
    const { items } = await api.messages.history({ sessionId: one.sessionId });
    expect(items).toHaveLength(16);
  });

  it('refuses an editOf that is not a visible user message of the session, writing nothing', async () => {
    const { api, sessionId, send } = await chat();
    const first = await send('question');
    const elsewhere = await chat();
    const foreign = await elsewhere.send('not yours');
    const doomed = await send('deleted soon');
    await api.messages.delete({ id: doomed.userMessage.id });
    const deleted = (await api.messages.history({ sessionId })).items.length;
    const before = (await api.sessions.get({ id: sessionId })).messageCount;
    for (const editOf of [first.answer!.id, foreign.userMessage.id, doomed.userMessage.id, crypto.randomUUID()]) {
      const error = await send('edited', editOf).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TRPCError);
      expect((error as TRPCError).code).toBe('BAD_REQUEST');
    }
    expect((await api.sessions.get({ id: sessionId })).messageCount).toBe(before);
    expect((await api.messages.history({ sessionId })).items).toHaveLength(deleted);
  });
});
