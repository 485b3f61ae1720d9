import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import { anonymousPrincipal } from '@threadstore/domain/testing';
import { callerAs } from '../../testing/caller.ts';
import { auditRows, createSession, sessionCounters, signedInUser, storedMessages } from './testing.ts';

describe('messages.restore and messages.undoClear', () => {
  const testDb = useTestDatabase();

  it('brings a deleted message back where it was, once, counting it again', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user, { requestId: 'restore-1' });
    const { items } = await api.messages.appendMany({
      sessionId,
      messages: [
        { role: 'user', content: 'one' },
        { role: 'user', content: 'two', clientMessageId: 'k2' },
        { role: 'user', content: 'three' },
      ],
    });
    await api.messages.delete({ id: items[1]!.id });

    const results = await Promise.all(
      Array.from({ length: 4 }, () => callerAs(testDb.orm, user).messages.restore({ id: items[1]!.id })),
    );
    expect(results.filter((r) => r.restored)).toHaveLength(1);
    expect(await api.messages.restore({ id: items[1]!.id })).toEqual({ restored: false });
    expect((await api.messages.history({ sessionId })).items.map((m) => [m.seq, m.content])).toEqual([
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
    ]);
    expect(await sessionCounters(testDb.orm, sessionId)).toMatchObject({ lastSeq: 3, messageCount: 3 });
    // Its idempotency key still works: a retried append finds it.
    expect((await api.messages.append({ sessionId, role: 'user', content: 'two', clientMessageId: 'k2' })).id).toBe(
      items[1]!.id,
    );
    expect((await auditRows(testDb.orm, 'messages.restore')).filter((r) => r.subjectId === items[1]!.id)).toEqual([
      expect.objectContaining({ action: 'messages.restore', details: { sessionId, seq: 2 } }),
    ]);
  });

  it('answers NOT_FOUND once the message is purged or its session deleted', async () => {
    const user = anonymousPrincipal();
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user);
    const message = await api.messages.append({ sessionId, role: 'user', content: 'gone' });
    await api.messages.delete({ id: message.id });
    await api.sessions.delete({ id: sessionId });
    await expect(api.messages.restore({ id: message.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await api.sessions.restore({ id: sessionId });
    // What retention does after the grace period.
    await testDb.orm.em.fork().execute('delete from chat_messages where id = ?', [message.id]);
    await expect(api.messages.restore({ id: message.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('undoes a clear: exactly the messages it hid come back, not those deleted before or purged since', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user, { requestId: 'undo-1' });
    const { items } = await api.messages.appendMany({
      sessionId,
      messages: ['a', 'b', 'c', 'd', 'e'].map((content) => ({
        role: 'user' as const,
        content,
        chapter: content < 'd' ? 'one' : 'two',
      })),
    });
    await api.messages.delete({ id: items[0]!.id });

    const chapter = await api.messages.clear({ sessionId, chapter: 'one' });
    expect(chapter).toEqual({ cleared: 2, clearId: expect.any(String) });
    const rest = await api.messages.clear({ sessionId });
    expect(rest.cleared).toBe(2);
    expect(await api.messages.clear({ sessionId })).toEqual({ cleared: 0, clearId: null });
    // Retention purged one of the chapter's messages meanwhile.
    await testDb.orm.em.fork().execute('delete from chat_messages where id = ?', [items[2]!.id]);

    expect(await api.messages.undoClear({ clearId: chapter.clearId! })).toEqual({ restored: 1 });
    expect(await api.messages.undoClear({ clearId: chapter.clearId! })).toEqual({ restored: 0 });
    expect((await api.messages.history({ sessionId })).items.map((m) => m.content)).toEqual(['b']);
    expect(await api.messages.undoClear({ clearId: rest.clearId! })).toEqual({ restored: 2 });
    expect((await api.messages.history({ sessionId })).items.map((m) => m.content)).toEqual(['b', 'd', 'e']);
    expect(await sessionCounters(testDb.orm, sessionId)).toMatchObject({ lastSeq: 5, messageCount: 3 });
    expect((await storedMessages(testDb.orm, sessionId)).map((m) => [m.content, m.deleted])).toEqual([
      ['a', true],
      ['b', false],
      ['d', false],
      ['e', false],
    ]);
    expect((await auditRows(testDb.orm, 'messages.undoClear')).map((r) => r.details)).toEqual([
      { clearId: chapter.clearId, restored: 1 },
      { clearId: rest.clearId, restored: 2 },
    ]);
    // Someone else's clear reads as missing.
    const other = callerAs(testDb.orm, await signedInUser(testDb.orm));
    await expect(other.messages.undoClear({ clearId: rest.clearId! })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'clear not found',
    });
  });
});
