import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import { anonymousPrincipal } from '@threadstore/domain/testing';
import { callerAs } from '../../testing/caller.ts';
import { auditRows, createSession, sessionCounters, signedInUser, storedMessages } from './testing.ts';

describe('messages.delete', () => {
  const testDb = useTestDatabase();

  it('hides the message from get and history, keeps its row, and counts one message less', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user, { requestId: 'delete-1' });
    const { items } = await api.messages.appendMany({
      sessionId,
      messages: [
        { role: 'user', content: 'keep' },
        { role: 'user', content: 'regret' },
      ],
    });

    expect(await api.messages.delete({ id: items[1]!.id })).toEqual({ deleted: true });
    await expect(api.messages.get({ id: items[1]!.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await api.messages.history({ sessionId })).items.map((message) => message.content)).toEqual(['keep']);
    expect(await storedMessages(testDb.orm, sessionId)).toMatchObject([
      { content: 'keep', deleted: false },
      { content: 'regret', deleted: true },
    ]);
    // last_seq stays: the seq is never handed out again.
    expect(await sessionCounters(testDb.orm, sessionId)).toMatchObject({ lastSeq: 2, messageCount: 1 });
    expect((await api.messages.append({ sessionId, role: 'user', content: 'next' })).seq).toBe(3);
    expect((await auditRows(testDb.orm, 'messages.delete')).filter((row) => row.subjectId === items[1]!.id)).toEqual([
      {
        actorType: 'user',
        actorId: user.kind === 'user' ? user.userId : null,
        action: 'messages.delete',
        subjectType: 'message',
        subjectId: items[1]!.id,
        details: { sessionId, seq: 2 },
        requestId: 'delete-1',
      },
    ]);
  });

  it('is harmless to repeat, and counts down once when deletes of one message race', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user);
    const message = await api.messages.append({ sessionId, role: 'user', content: 'twice' });

    const results = await Promise.all(
      Array.from({ length: 5 }, () => callerAs(testDb.orm, user).messages.delete({ id: message.id })),
    );
    expect(results.filter((result) => result.deleted)).toHaveLength(1);
    expect(await api.messages.delete({ id: message.id })).toEqual({ deleted: false });
    expect(await sessionCounters(testDb.orm, sessionId)).toMatchObject({ lastSeq: 1, messageCount: 0 });
    expect((await auditRows(testDb.orm, 'messages.delete')).filter((row) => row.subjectId === message.id)).toHaveLength(
      1,
    );
  });
});

describe('messages.clear', () => {
  const testDb = useTestDatabase();

  it('hides every visible message of the session and returns how many', async () => {
    const visitor = anonymousPrincipal();
    const sessionId = await createSession(testDb.orm, visitor);
    const api = callerAs(testDb.orm, visitor, { requestId: 'clear-1' });
    const { items } = await api.messages.appendMany({
      sessionId,
      messages: Array.from({ length: 4 }, (_, i) => ({ role: 'user' as const, content: `m${i}` })),
    });
    await api.messages.delete({ id: items[0]!.id });

    const { clearId } = await api.messages.clear({ sessionId });
    expect(clearId).toEqual(expect.any(String));
    expect(await api.messages.history({ sessionId })).toEqual({ items: [], hasOlder: false, hasNewer: false });
    expect((await storedMessages(testDb.orm, sessionId)).every((message) => message.deleted)).toBe(true);
    expect(await sessionCounters(testDb.orm, sessionId)).toMatchObject({ lastSeq: 4, messageCount: 0 });
    expect(await api.messages.clear({ sessionId })).toEqual({ cleared: 0, clearId: null });
    // Chatting goes on after a clear, with the next seq.
    expect((await api.messages.append({ sessionId, role: 'user', content: 'again' })).seq).toBe(5);
    expect((await auditRows(testDb.orm, 'messages.clear')).filter((row) => row.subjectId === sessionId)).toEqual([
      {
        actorType: 'anonymous',
        actorId: visitor.anonymousId,
        action: 'messages.clear',
        subjectType: 'session',
        subjectId: sessionId,
        details: { chapter: null, count: 3, clearId },
        requestId: 'clear-1',
      },
    ]);
  });

  it('clears one chapter only when given one', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user);
    await api.messages.appendMany({
      sessionId,
      messages: [
        { role: 'user', content: 'intro 1', chapter: 'intro' },
        { role: 'user', content: 'main 1', chapter: 'main' },
        { role: 'user', content: 'intro 2', chapter: 'intro' },
        { role: 'user', content: 'unchaptered' },
      ],
    });

    const cleared = await api.messages.clear({ sessionId, chapter: 'intro' });
    expect(cleared).toEqual({ cleared: 2, clearId: expect.any(String) });
    expect((await api.messages.history({ sessionId })).items.map((message) => message.content)).toEqual([
      'main 1',
      'unchaptered',
    ]);
    expect(await sessionCounters(testDb.orm, sessionId)).toMatchObject({ lastSeq: 4, messageCount: 2 });
    expect((await auditRows(testDb.orm, 'messages.clear')).find((row) => row.subjectId === sessionId)?.details).toEqual(
      {
        chapter: 'intro',
        count: 2,
        clearId: cleared.clearId,
      },
    );
  });

  it('keeps the count exact when clears, deletes and appends race', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user);
    const { items } = await api.messages.appendMany({
      sessionId,
      messages: Array.from({ length: 20 }, (_, i) => ({ role: 'user' as const, content: `m${i}` })),
    });

    await Promise.all([
      callerAs(testDb.orm, user).messages.clear({ sessionId }),
      ...items.slice(0, 10).map((message) => callerAs(testDb.orm, user).messages.delete({ id: message.id })),
      ...Array.from({ length: 5 }, (_, i) =>
        callerAs(testDb.orm, user).messages.append({ sessionId, role: 'user', content: `late ${i}` }),
      ),
    ]);

    const stored = await storedMessages(testDb.orm, sessionId);
    expect(stored.map((message) => message.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(await sessionCounters(testDb.orm, sessionId)).toMatchObject({
      lastSeq: 25,
      messageCount: stored.filter((message) => !message.deleted).length,
    });
  });
});
