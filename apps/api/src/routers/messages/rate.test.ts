import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTENT_LIMITS } from '@threadstore/contract';
import { useTestDatabase } from '@threadstore/db/testing';
import { anonymousPrincipal } from '@threadstore/domain/testing';
import { callerAs } from '../../testing/caller.ts';
import { auditRows, createSession, signedInUser } from './testing.ts';

describe('messages.rate', () => {
  const testDb = useTestDatabase();
  const ratings = () =>
    testDb.orm.em
      .fork()
      .execute<{ message_id: string; value: string }[]>('select message_id, value from message_ratings', []);

  it('keeps one rating per message, changeable and removable, audited without the comment', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user, { requestId: 'rate-1' });
    const answer = await api.messages.append({ sessionId, role: 'assistant', content: 'an answer', model: 'model-a' });

    const up = await api.messages.rate({ messageId: answer.id, value: 'up', comment: 'great\u0000 answer' });
    expect(up.rating).toMatchObject({ messageId: answer.id, value: 'up', reason: null, comment: 'great\uFFFD answer' });
    const down = await api.messages.rate({ messageId: answer.id, value: 'down', reason: 'inaccurate' });
    expect(down.rating).toMatchObject({
      value: 'down',
      reason: 'inaccurate',
      comment: null,
      createdAt: up.rating!.createdAt,
    });
    // Concurrent ratings of one message end as one row.
    await Promise.all(
      (['up', 'down', 'up', 'down'] as const).map((value) =>
        callerAs(testDb.orm, user).messages.rate({ messageId: answer.id, value }),
      ),
    );
    expect(await ratings()).toHaveLength(1);
    expect(await api.messages.rate({ messageId: answer.id, value: null })).toEqual({ rating: null });
    expect(await ratings()).toEqual([]);
    const trail = await auditRows(testDb.orm, 'messages.rate');
    expect(trail[0]).toMatchObject({
      subjectId: answer.id,
      requestId: 'rate-1',
      details: { sessionId, value: 'up', reason: null },
    });
    expect(JSON.stringify(trail)).not.toContain('great');
  });

  it('refuses deleted and foreign messages alike, and an over-long comment', async () => {
    const owner = anonymousPrincipal();
    const sessionId = await createSession(testDb.orm, owner);
    const api = callerAs(testDb.orm, owner, {
      limits: { ...DEFAULT_CONTENT_LIMITS, maxContentBytes: 8 },
    });
    const message = await api.messages.append({ sessionId, role: 'assistant', content: 'short' });
    await expect(
      api.messages.rate({ messageId: message.id, value: 'up', comment: 'far too long' }),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    const other = callerAs(testDb.orm, await signedInUser(testDb.orm));
    await expect(other.messages.rate({ messageId: message.id, value: 'down' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'message not found',
    });
    await api.messages.delete({ id: message.id });
    await expect(api.messages.rate({ messageId: message.id, value: 'up' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await ratings()).toEqual([]);
  });
});
