import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTENT_LIMITS, type TNewMessage } from '@threadstore/contract';
import { useTestDatabase } from '@threadstore/db/testing';
import { anonymousPrincipal } from '@threadstore/domain/testing';
import { callerAs } from '../../testing/caller.ts';
import {
  auditRows,
  createSession,
  sessionCounters,
  signedInUser,
  softDeleteSession,
  storedMessages,
} from './testing.ts';

describe('messages.append', () => {
  const testDb = useTestDatabase();

  it('stores every field as given, with seq 1, and returns it as the stored message', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user);
    const first = await api.messages.append({ sessionId, role: 'user', content: 'What is 0.1 + 0.2?' });
    const answer = await api.messages.append({
      sessionId,
      role: 'assistant',
      content: '0.30000000000000004 in floating point',
      chapter: 'arithmetic',
      citations: [{ url: 'https://example.test/ieee754', title: 'IEEE 754' }],
      toolCalls: [{ name: 'calculator', arguments: { expression: '0.1 + 0.2' } }],
      metadata: { temperature: 0.2, tags: ['math'] },
      model: 'gpt-test',
      promptTokens: 12,
      completionTokens: 2_147_483_647,
      cost: '0.0000000001',
      latencyMs: 850,
      parentId: first.id,
      agentId: 'calculator-agent',
      clientMessageId: 'answer-1',
    });

    expect(first).toMatchObject({ sessionId, seq: 1, role: 'user', chapter: null, metadata: {}, cost: null });
    expect(answer).toEqual({
      id: expect.any(String),
      sessionId,
      seq: 2,
      role: 'assistant',
      content: '0.30000000000000004 in floating point',
      chapter: 'arithmetic',
      citations: [{ url: 'https://example.test/ieee754', title: 'IEEE 754' }],
      toolCalls: [{ name: 'calculator', arguments: { expression: '0.1 + 0.2' } }],
      metadata: { temperature: 0.2, tags: ['math'] },
      model: 'gpt-test',
      promptTokens: 12,
      completionTokens: 2_147_483_647,
      // numeric(20,10): exact, never a float.
      cost: '0.0000000001',
      latencyMs: 850,
      parentId: first.id,
      agentId: 'calculator-agent',
      clientMessageId: 'answer-1',
      sanitized: false,
      forkedFromId: null,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      // Written as plain text, never edited, not sent as an edit.
      parts: null,
      version: 1,
      edited: false,
      editedAt: null,
      editOf: null,
    });
    expect(await api.messages.get({ id: answer.id })).toEqual(answer);
    expect(await sessionCounters(testDb.orm, sessionId)).toEqual({
      lastSeq: 2,
      messageCount: 2,
      lastMessageAt: expect.any(String),
    });
  });

  it('records an audit row per append, naming the actor, the session and the seqs but not the content', async () => {
    const visitor = anonymousPrincipal();
    const sessionId = await createSession(testDb.orm, visitor);
    const api = callerAs(testDb.orm, visitor, { requestId: 'append-audit' });
    await api.messages.append({ sessionId, role: 'user', content: 'a secret' });
    await api.messages.appendMany({
      sessionId,
      messages: [
        { role: 'user', content: 'one' },
        { role: 'assistant', content: 'two' },
      ],
    });

    const rows = [
      ...(await auditRows(testDb.orm, 'messages.append')),
      ...(await auditRows(testDb.orm, 'messages.appendMany')),
    ];
    const mine = rows.filter((row) => row.subjectId === sessionId);
    expect(mine).toEqual([
      {
        actorType: 'anonymous',
        actorId: visitor.anonymousId,
        action: 'messages.append',
        subjectType: 'session',
        subjectId: sessionId,
        details: { count: 1, firstSeq: 1, lastSeq: 1 },
        requestId: 'append-audit',
      },
      {
        actorType: 'anonymous',
        actorId: visitor.anonymousId,
        action: 'messages.appendMany',
        subjectType: 'session',
        subjectId: sessionId,
        details: { count: 2, firstSeq: 2, lastSeq: 3 },
        requestId: 'append-audit',
      },
    ]);
  });

  it('gives 50 concurrent appends to one session the seqs 1..50 exactly, with matching counters', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const appended = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        callerAs(testDb.orm, user).messages.append({ sessionId, role: 'user', content: `message ${i}` }),
      ),
    );

    const seqs = appended.map((message) => message.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const stored = await storedMessages(testDb.orm, sessionId);
    expect(stored.map((message) => message.seq)).toEqual(seqs);
    // Each caller got back the message stored under its seq.
    for (const message of appended) {
      expect(stored.find((row) => row.seq === message.seq)?.content).toBe(message.content);
    }
    expect(await sessionCounters(testDb.orm, sessionId)).toMatchObject({ lastSeq: 50, messageCount: 50 });
  });

  it('keeps seqs gapless when appends and batches interleave', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        i % 2 === 0
          ? api.messages.append({ sessionId, role: 'user', content: `single ${i}` })
          : api.messages.appendMany({
              sessionId,
              messages: Array.from({ length: 5 }, (_, j) => ({ role: 'tool' as const, content: `batch ${i}.${j}` })),
            }),
      ),
    );

    const stored = await storedMessages(testDb.orm, sessionId);
    expect(stored.map((message) => message.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    // A batch's messages are consecutive, in the order given.
    for (let i = 1; i < 10; i += 2) {
      const seqs = stored.filter((message) => message.content.startsWith(`batch ${i}.`)).map((message) => message.seq);
      expect(seqs).toEqual(Array.from({ length: 5 }, (_, j) => seqs[0]! + j));
    }
    expect(await sessionCounters(testDb.orm, sessionId)).toMatchObject({ lastSeq: 30, messageCount: 30 });
  });

  it('is NOT_FOUND for a missing session and for a deleted one, and writes nothing', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    await softDeleteSession(testDb.orm, sessionId);
    const api = callerAs(testDb.orm, user);

    await expect(api.messages.append({ sessionId, role: 'user', content: 'hello?' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'session not found',
    });
    await expect(
      api.messages.append({ sessionId: '0190a000-0000-7000-8000-000000000000', role: 'user', content: 'hello?' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'session not found' });
    expect(await storedMessages(testDb.orm, sessionId)).toEqual([]);
    expect(await sessionCounters(testDb.orm, sessionId)).toMatchObject({ lastSeq: 0, messageCount: 0 });
  });

  it('refuses a parent from another session, or a deleted one, and writes nothing', async () => {
    const user = await signedInUser(testDb.orm);
    const api = callerAs(testDb.orm, user);
    const sessionId = await createSession(testDb.orm, user);
    const otherSessionId = await createSession(testDb.orm, user);
    const elsewhere = await api.messages.append({ sessionId: otherSessionId, role: 'user', content: 'elsewhere' });
    const visible = await api.messages.append({ sessionId, role: 'user', content: 'visible' });
    const deleted = await api.messages.append({ sessionId, role: 'user', content: 'deleted' });
    await api.messages.delete({ id: deleted.id });

    for (const parentId of [elsewhere.id, deleted.id]) {
      await expect(
        api.messages.append({ sessionId, role: 'assistant', content: 'reply', parentId }),
      ).rejects.toMatchObject({
        code: 'BAD_REQUEST',
        message: 'parentId must be a visible message of the same session',
      });
    }
    await expect(
      api.messages.appendMany({
        sessionId,
        messages: [
          { role: 'assistant', content: 'fine', parentId: visible.id },
          { role: 'user', content: 'fine too' },
          { role: 'assistant', content: 'reply', parentId: elsewhere.id },
        ],
      }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST', cause: { details: { field: 'messages[2].parentId' } } });
    expect(await sessionCounters(testDb.orm, sessionId)).toMatchObject({ lastSeq: 2, messageCount: 1 });
  });

  it('refuses counts outside PostgreSQL integer range, malformed costs and unknown fields, and writes nothing', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user);
    const refused: Partial<Record<string, unknown>>[] = [
      { promptTokens: 2_147_483_648 },
      { completionTokens: -1 },
      { latencyMs: 1.5 },
      { cost: '-1' },
      { cost: '1e3' },
      { cost: '12345678901' },
      { cost: '0.00000000001' },
      { role: 'narrator' },
      { seq: 7 },
      { clientMessageId: '' },
      { chapter: 'x'.repeat(256) },
    ];
    for (const fields of refused) {
      await expect(
        api.messages.append({ sessionId, role: 'user', content: 'x', ...fields } as never),
        JSON.stringify(fields),
      ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    }
    expect(await sessionCounters(testDb.orm, sessionId)).toMatchObject({ lastSeq: 0, messageCount: 0 });
  });
});

describe('messages.append with a clientMessageId', () => {
  const testDb = useTestDatabase();
  const question: TNewMessage = {
    role: 'user',
    content: 'Will this be stored twice?',
    metadata: { b: 1, a: [1, 2] },
    cost: '1.5',
  };

  it('returns the stored message on a replay, writing nothing and using no seq', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user);
    const original = await api.messages.append({ sessionId, ...question, clientMessageId: 'q-1' });
    // The same message, its keys in another order and its cost spelled differently.
    const replay = await api.messages.append({
      sessionId,
      clientMessageId: 'q-1',
      cost: '1.50',
      metadata: { a: [1, 2], b: 1 },
      content: question.content,
      role: 'user',
    });

    expect(replay).toEqual(original);
    expect(await storedMessages(testDb.orm, sessionId)).toHaveLength(1);
    expect(await sessionCounters(testDb.orm, sessionId)).toMatchObject({ lastSeq: 1, messageCount: 1 });
    const next = await api.messages.append({ sessionId, role: 'assistant', content: 'No.' });
    expect(next.seq).toBe(2);
  });

  it('is a CONFLICT when the key comes with a different message, and writes nothing', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user);
    const original = await api.messages.append({ sessionId, ...question, clientMessageId: 'q-1' });

    for (const changed of [
      { content: 'Something else' },
      { metadata: { b: 2, a: [1, 2] } },
      { role: 'system' as const },
    ]) {
      await expect(
        api.messages.append({ sessionId, ...question, ...changed, clientMessageId: 'q-1' }),
      ).rejects.toMatchObject({
        code: 'CONFLICT',
        message: 'clientMessageId q-1 is already used by a different message',
      });
    }
    expect(await storedMessages(testDb.orm, sessionId)).toEqual([
      expect.objectContaining({ id: original.id, seq: 1, content: question.content }),
    ]);
    expect(await sessionCounters(testDb.orm, sessionId)).toMatchObject({ lastSeq: 1, messageCount: 1 });
  });

  it('stores one message when 20 appends with one key race, and gives every caller that message', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        callerAs(testDb.orm, user).messages.append({ sessionId, ...question, clientMessageId: 'race' }),
      ),
    );

    const stored = await storedMessages(testDb.orm, sessionId);
    expect(stored).toHaveLength(1);
    for (const result of results) expect(result).toEqual(results[0]);
    expect(results[0]).toMatchObject({ id: stored[0]!.id, seq: 1 });
    expect(await sessionCounters(testDb.orm, sessionId)).toMatchObject({ lastSeq: 1, messageCount: 1 });
  });

  it('scopes keys to their session: the same key in another session is another message', async () => {
    const user = await signedInUser(testDb.orm);
    const api = callerAs(testDb.orm, user);
    const one = await api.messages.append({
      sessionId: await createSession(testDb.orm, user),
      ...question,
      clientMessageId: 'k',
    });
    const two = await api.messages.append({
      sessionId: await createSession(testDb.orm, user),
      ...question,
      clientMessageId: 'k',
    });
    expect(two.id).not.toBe(one.id);
    expect(two.seq).toBe(1);
  });

  it('refuses a key longer than 255 characters (BAD_REQUEST) and accepts one of exactly 255', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user);
    await expect(
      api.messages.append({ sessionId, ...question, clientMessageId: 'k'.repeat(256) }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(await storedMessages(testDb.orm, sessionId)).toEqual([]);

    const longest = await api.messages.append({ sessionId, ...question, clientMessageId: '🔑'.repeat(127) + 'k' });
    expect(longest.clientMessageId).toBe('🔑'.repeat(127) + 'k');
  });

  it('is a CONFLICT when the key belongs to a message deleted since', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user);
    const original = await api.messages.append({ sessionId, ...question, clientMessageId: 'gone' });
    await api.messages.delete({ id: original.id });

    await expect(api.messages.append({ sessionId, ...question, clientMessageId: 'gone' })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: 'clientMessageId gone belongs to a deleted message',
    });
    expect(await sessionCounters(testDb.orm, sessionId)).toMatchObject({ lastSeq: 1, messageCount: 0 });
  });
});

describe('messages.appendMany', () => {
  const testDb = useTestDatabase();

  it('stores a batch in order with consecutive seqs after the existing ones', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user);
    await api.messages.append({ sessionId, role: 'system', content: 'be brief' });
    const { items } = await api.messages.appendMany({
      sessionId,
      messages: [
        { role: 'user', content: 'one', chapter: 'intro' },
        { role: 'assistant', content: 'two', cost: '0.25', metadata: { step: 2 } },
        { role: 'tool', content: 'three', toolCalls: [{ id: 'call-1' }] },
      ],
    });

    expect(items.map(({ seq, content }) => [seq, content])).toEqual([
      [2, 'one'],
      [3, 'two'],
      [4, 'three'],
    ]);
    expect(items[0]).toMatchObject({ chapter: 'intro', role: 'user' });
    expect(items[1]).toMatchObject({ cost: '0.2500000000', metadata: { step: 2 } });
    expect(items[2]).toMatchObject({ toolCalls: [{ id: 'call-1' }] });
    expect(await sessionCounters(testDb.orm, sessionId)).toMatchObject({ lastSeq: 4, messageCount: 4 });
  });

  it('stores nothing when one message of the batch is invalid, and leaves the seq where it was', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user, { limits: { ...DEFAULT_CONTENT_LIMITS, maxContentBytes: 10 } });
    await api.messages.append({ sessionId, role: 'user', content: 'first' });
    const batch = [
      { role: 'user' as const, content: 'fine' },
      { role: 'assistant' as const, content: 'far too long for the limit' },
      { role: 'user' as const, content: 'fine too' },
    ];

    await expect(api.messages.appendMany({ sessionId, messages: batch })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      cause: { details: { limit: 'maxContentBytes', field: 'messages[1].content' } },
    });
    await expect(
      api.messages.appendMany({ sessionId, messages: [batch[0]!, { role: 'user', content: 'x', promptTokens: -5 }] }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect((await storedMessages(testDb.orm, sessionId)).map((message) => message.content)).toEqual(['first']);
    expect(await sessionCounters(testDb.orm, sessionId)).toMatchObject({ lastSeq: 1, messageCount: 1 });
  });

  it('returns already stored messages for their keys and stores only the new ones, in one seq run', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user);
    const earlier = await api.messages.append({ sessionId, role: 'user', content: 'a', clientMessageId: 'a' });
    const batch = [
      { role: 'user' as const, content: 'a', clientMessageId: 'a' },
      { role: 'assistant' as const, content: 'b', clientMessageId: 'b' },
      { role: 'user' as const, content: 'c' },
    ];

    const { items } = await api.messages.appendMany({ sessionId, messages: batch });
    expect(items[0]).toEqual(earlier);
    expect(items.slice(1).map(({ seq, content }) => [seq, content])).toEqual([
      [2, 'b'],
      [3, 'c'],
    ]);
    // A retry of the whole batch: the keyed messages come back as stored; the unkeyed one is new.
    const retry = await api.messages.appendMany({ sessionId, messages: batch });
    expect(retry.items.slice(0, 2)).toEqual(items.slice(0, 2));
    expect(retry.items[2]).toMatchObject({ seq: 4, content: 'c' });
    expect(await sessionCounters(testDb.orm, sessionId)).toMatchObject({ lastSeq: 4, messageCount: 4 });
  });

  it('is a CONFLICT as a whole when one key is stored with a different message', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user);
    await api.messages.append({ sessionId, role: 'user', content: 'a', clientMessageId: 'a' });

    await expect(
      api.messages.appendMany({
        sessionId,
        messages: [
          { role: 'user', content: 'new' },
          { role: 'user', content: 'not a', clientMessageId: 'a' },
        ],
      }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await sessionCounters(testDb.orm, sessionId)).toMatchObject({ lastSeq: 1, messageCount: 1 });
  });

  it('refuses a key repeated within one batch', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    await expect(
      callerAs(testDb.orm, user).messages.appendMany({
        sessionId,
        messages: [
          { role: 'user', content: 'x', clientMessageId: 'twice' },
          { role: 'user', content: 'x', clientMessageId: 'twice' },
        ],
      }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST', cause: { details: { field: 'messages[1].clientMessageId' } } });
    expect(await storedMessages(testDb.orm, sessionId)).toEqual([]);
  });

  it('refuses an empty batch', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    await expect(callerAs(testDb.orm, user).messages.appendMany({ sessionId, messages: [] })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });
});
