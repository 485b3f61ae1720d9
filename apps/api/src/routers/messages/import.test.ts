import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONTENT_LIMITS } from '@threadstore/contract';
import { useTestDatabase } from '@threadstore/db/testing';
import { drainSearchQueue, importLineLimit } from '@threadstore/domain';
import { anonymousPrincipal } from '@threadstore/domain/testing';
import { startApi, type RunningApi } from '../../../test/http-api.ts';
import { callerAs } from '../../testing/caller.ts';
import { auditRows, createSession, refusal, sessionCounters, signedInUser, storedMessages } from './testing.ts';

/** A request body as tRPC hands it to the procedure: a ReadableStream of bytes, here in small chunks. */
function stream(text: string | Uint8Array, chunkBytes = 7): ReadableStream<Uint8Array> {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunkBytes));
      offset += chunkBytes;
    },
  });
}

const ndjson = (lines: readonly unknown[]) => lines.map((line) => JSON.stringify(line)).join('\n') + '\n';
/** The procedure's input type is tRPC's OctetInput (Blob, Uint8Array); in process it gets the stream. */
const body = (text: string | Uint8Array, chunkBytes?: number) => stream(text, chunkBytes) as unknown as Uint8Array;

describe('messages.import', () => {
  const testDb = useTestDatabase();

  async function userWithSessions(count: number) {
    const user = await signedInUser(testDb.orm);
    const sessionIds: string[] = [];
    for (let i = 0; i < count; i++) sessionIds.push(await createSession(testDb.orm, user));
    return { user, sessionIds, api: callerAs(testDb.orm, user) };
  }

  const totalMessages = async () =>
    Number((await testDb.orm.em.fork().execute<{ n: string }[]>('select count(*) as n from chat_messages'))[0]!.n);

  it('imports a stream into several sessions, in line order per session, and a retry changes nothing', async () => {
    const { user, sessionIds, api } = await userWithSessions(2);
    const [a, b] = sessionIds as [string, string];
    await api.messages.append({ sessionId: a, role: 'system', content: 'already here' });
    const lines = Array.from({ length: 30 }, (_, i) => ({
      sessionId: i % 3 === 0 ? b : a,
      role: i % 2 === 0 ? 'user' : 'assistant',
      content: `message ${i}\twith a tab, a backslash \\ and a newline\n`,
      clientMessageId: `k-${i}`,
      ...(i === 4 ? { chapter: 'four', metadata: { nested: { ok: [1, 2] } }, cost: '0.0100', promptTokens: 3 } : {}),
    }));
    const receipt = await api.messages.import(body(ndjson(lines)));
    expect(receipt).toEqual({
      lines: 30,
      imported: 30,
      unchanged: 0,
      sessions: [
        { sessionId: a, imported: 20, unchanged: 0, firstSeq: 2, lastSeq: 21 },
        { sessionId: b, imported: 10, unchanged: 0, firstSeq: 1, lastSeq: 10 },
      ].sort((x, y) => (x.sessionId < y.sessionId ? -1 : 1)),
    });
    const storedA = await storedMessages(testDb.orm, a);
    expect(storedA.map((m) => m.seq)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    expect(storedA.slice(1).map((m) => m.clientMessageId)).toEqual(
      lines.filter((line) => line.sessionId === a).map((line) => line.clientMessageId),
    );
    expect(storedA[1]!.content).toBe(lines[1]!.content);
    const fourth = (await api.messages.history({ sessionId: a })).items.find((m) => m.clientMessageId === 'k-4')!;
    expect(fourth).toMatchObject({ chapter: 'four', metadata: { nested: { ok: [1, 2] } }, promptTokens: 3 });
    expect(Number(fourth.cost)).toBe(0.01);
    expect(await sessionCounters(testDb.orm, a)).toMatchObject({ lastSeq: 21, messageCount: 21 });
    expect(await sessionCounters(testDb.orm, b)).toMatchObject({ lastSeq: 10, messageCount: 10 });
    const audits = await auditRows(testDb.orm, 'messages.import');
    expect(audits).toHaveLength(2);
    expect(audits.find((row) => row.subjectId === a)).toMatchObject({
      actorId: user.kind === 'user' ? user.userId : null,
      details: { count: 20, firstSeq: 2, lastSeq: 21 },
    });

    // The same stream again (a client retrying after a lost answer): every line is answered as
    // unchanged, nothing is doubled, no seq is used up, no audit row is added.
    const retry = await api.messages.import(body(ndjson(lines), 4096));
    expect(retry).toMatchObject({ lines: 30, imported: 0, unchanged: 30 });
    expect(retry.sessions.every((s) => s.firstSeq === null && s.lastSeq === null)).toBe(true);
    // A longer stream holding the first: only the new lines are stored, after the rest.
    const more = await api.messages.import(
      body(ndjson([...lines, { sessionId: a, role: 'user', content: 'one more', clientMessageId: 'k-30' }])),
    );
    expect(more).toMatchObject({ imported: 1, unchanged: 30 });
    expect(more.sessions.find((s) => s.sessionId === a)).toMatchObject({ imported: 1, firstSeq: 22, lastSeq: 22 });
    expect(await totalMessages()).toBe(32);
    expect(await auditRows(testDb.orm, 'messages.import')).toHaveLength(3);
  });

  it('sanitizes as an append does: an escaped NUL or lone surrogate becomes U+FFFD and marks the message', async () => {
    const { sessionIds, api } = await userWithSessions(1);
    const sessionId = sessionIds[0]!;
    const text =
      '{"sessionId":"' + sessionId + '","role":"user","content":"a\\u0000b\\ud800c","clientMessageId":"n1"}\n';
    await api.messages.import(body(text));
    const appended = await api.messages.append({ sessionId, role: 'user', content: 'a\u0000b\ud800c' });
    const [imported] = (await api.messages.history({ sessionId })).items;
    expect(imported).toMatchObject({ content: 'a\uFFFDb\uFFFDc', sanitized: true });
    expect(appended).toMatchObject({ content: imported!.content, sanitized: true });
    // The fingerprint is an append's: the same message appended under the imported key is a retry.
    const again = await api.messages.append({
      sessionId,
      role: 'user',
      content: 'a\u0000b\ud800c',
      clientMessageId: 'n1',
    });
    expect(again.id).toBe(imported!.id);
  });

  it('refuses a key reused with different content (CONFLICT naming the line) and writes nothing', async () => {
    const { sessionIds, api } = await userWithSessions(2);
    const [a, b] = sessionIds as [string, string];
    await api.messages.append({ sessionId: a, role: 'user', content: 'original', clientMessageId: 'taken' });
    const before = await totalMessages();
    const error = await refusal(
      api.messages.import(
        body(
          ndjson([
            { sessionId: b, role: 'user', content: 'fine', clientMessageId: 'x1' },
            { sessionId: a, role: 'user', content: 'fine too', clientMessageId: 'x2' },
            { sessionId: a, role: 'user', content: 'changed', clientMessageId: 'taken' },
          ]),
        ),
      ),
    );
    expect(error).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('line 3') });
    expect(await totalMessages()).toBe(before);
    expect(await sessionCounters(testDb.orm, a)).toMatchObject({ lastSeq: 1 });
    expect(await sessionCounters(testDb.orm, b)).toMatchObject({ lastSeq: 0 });
    const audited = (await auditRows(testDb.orm, 'messages.import')).map((row) => row.subjectId);
    expect(audited.filter((id) => id === a || id === b)).toEqual([]);
  });

  it("refuses another principal's session, or a deleted one, as NOT_FOUND naming the line, writing nothing", async () => {
    const { sessionIds, api } = await userWithSessions(1);
    const stranger = await userWithSessions(1);
    const visitor = anonymousPrincipal();
    const visitorSession = await createSession(testDb.orm, visitor);
    const before = await totalMessages();
    for (const foreign of [stranger.sessionIds[0]!, visitorSession, crypto.randomUUID()]) {
      const error = await refusal(
        api.messages.import(
          body(
            ndjson([
              { sessionId: sessionIds[0], role: 'user', content: 'mine', clientMessageId: `m-${foreign}` },
              { sessionId: foreign, role: 'user', content: 'theirs', clientMessageId: 'f' },
            ]),
          ),
        ),
      );
      expect(error).toMatchObject({ code: 'NOT_FOUND', message: 'session not found (line 2)' });
    }
    expect(await totalMessages()).toBe(before);
    expect(await sessionCounters(testDb.orm, sessionIds[0]!)).toMatchObject({ lastSeq: 0 });
  });

  it('refuses a bad line as BAD_REQUEST naming it, writing nothing', async () => {
    const { sessionIds, api } = await userWithSessions(1);
    const sessionId = sessionIds[0]!;
    const good = JSON.stringify({ sessionId, role: 'user', content: 'good', clientMessageId: 'g' });
    const longLine = JSON.stringify({
      sessionId,
      role: 'user',
      content: 'x'.repeat(importLineLimit(DEFAULT_CONTENT_LIMITS) + 1),
      clientMessageId: 'long',
    });
    const cases: [string, string | Uint8Array, RegExp][] = [
      [
        'a raw NUL byte',
        `${good}\n{"sessionId":"${sessionId}","role":"user","content":"a\u0000b","clientMessageId":"z"}\n`,
        /^line 2 holds a NUL byte/,
      ],
      [
        'broken JSON',
        `${good}\n${good.replace('"g"}', '"g2"}')}\n{"sessionId": "${sessionId}", "role": "user", "content": "cut`,
        /^line 3 is not a JSON object/,
      ],
      ['an oversized line', `${good}\n${longLine}\n`, /^line 2 is longer than \d+ bytes/],
      ['an unknown field', `${good}\n${good.replace('"g"}', '"h","colour":"red"}')}\n`, /^line 2 /],
      [
        'a missing key',
        `${good}\n${JSON.stringify({ sessionId, role: 'user', content: 'no key' })}\n`,
        /^line 2 clientMessageId/,
      ],
      ['a key repeated in the stream', `${good}\n${good}\n`, /^line 2 clientMessageId repeats the one of line 1/],
      [
        'a content over the limit',
        `${good}\n${JSON.stringify({ sessionId, role: 'user', content: 'y'.repeat(DEFAULT_CONTENT_LIMITS.maxContentBytes + 1), clientMessageId: 'big' })}\n`,
        /^line 2: content is \d+ bytes; the limit maxContentBytes/,
      ],
      [
        'invalid UTF-8',
        new Uint8Array([...new TextEncoder().encode(`${good}\n{"content":"`), 0xff, 0xfe, 0x22, 0x7d, 0x0a]),
        /^line 2 is not valid UTF-8/,
      ],
      [
        'a parent of another session',
        `${JSON.stringify({ sessionId, role: 'user', content: 'p', clientMessageId: 'p', parentId: crypto.randomUUID() })}\n`,
        /^line 1: parentId must be/,
      ],
      ['nothing', '\n\n', /holds no message/],
    ];
    for (const [name, text, message] of cases) {
      const error = await refusal(api.messages.import(body(text, 1000)));
      expect(error, name).toMatchObject({ code: 'BAD_REQUEST' });
      expect(error.message, name).toMatch(message);
    }
    expect(await storedMessages(testDb.orm, sessionId)).toEqual([]);
    expect(await sessionCounters(testDb.orm, sessionId)).toMatchObject({ lastSeq: 0, messageCount: 0 });
  });

  it('keeps seqs gapless when appends race an import into the same session', async () => {
    const { sessionIds, api } = await userWithSessions(1);
    const sessionId = sessionIds[0]!;
    const lines = Array.from({ length: 2_000 }, (_, i) => ({
      sessionId,
      role: 'user',
      content: `imported ${i}`,
      clientMessageId: `i-${i}`,
    }));
    const appends = Array.from({ length: 20 }, (_, i) =>
      api.messages.append({ sessionId, role: 'assistant', content: `appended ${i}`, clientMessageId: `a-${i}` }),
    );
    const [receipt] = await Promise.all([api.messages.import(body(ndjson(lines), 16_384)), ...appends]);
    expect(receipt.imported).toBe(2_000);
    const stored = await storedMessages(testDb.orm, sessionId);
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: 2_020 }, (_, i) => i + 1));
    // The imported lines keep their order, in one unbroken run of seqs.
    const imported = stored.filter((m) => m.clientMessageId!.startsWith('i-'));
    expect(imported.map((m) => m.clientMessageId)).toEqual(lines.map((line) => line.clientMessageId));
    expect(imported.at(-1)!.seq - imported[0]!.seq).toBe(1_999);
    expect(await sessionCounters(testDb.orm, sessionId)).toMatchObject({ lastSeq: 2_020, messageCount: 2_020 });
  });

  it('makes imported messages searchable once the indexer has run', async () => {
    const { sessionIds, api } = await userWithSessions(1);
    const sessionId = sessionIds[0]!;
    await api.messages.import(
      body(
        ndjson([
          { sessionId, role: 'user', content: 'the narwhal surfaces at noon', clientMessageId: 's1' },
          { sessionId, role: 'assistant', content: 'nothing to see', clientMessageId: 's2' },
        ]),
      ),
    );
    expect((await api.messages.search({ query: 'narwhal' })).items).toEqual([]);
    await drainSearchQueue(testDb.orm.em.fork(), { batchSize: 1_000 });
    const { items } = await api.messages.search({ query: 'narwhal' });
    expect(items.map((hit) => [hit.message.content, hit.message.seq])).toEqual([['the narwhal surfaces at noon', 1]]);
  });
});

describe('messages.import over HTTP', () => {
  const testDb = useTestDatabase();
  let api: RunningApi;
  beforeAll(async () => {
    api = await startApi(testDb.orm, { LIMIT_MAX_BODY_BYTES: 4096, LIMIT_MAX_IMPORT_BYTES: 256 * 1024 });
  });
  afterAll(() => api?.close());

  it('streams a body larger than LIMIT_MAX_BODY_BYTES, from the typed client or a plain POST, and refuses one over LIMIT_MAX_IMPORT_BYTES', async () => {
    const visitor = anonymousPrincipal();
    if (visitor.kind !== 'anonymous') throw new Error('expected an anonymous principal');
    const headers = { 'x-session-id': visitor.anonymousId };
    const sessionId = await createSession(testDb.orm, visitor);
    const lines = (from: number, count: number) =>
      ndjson(
        Array.from({ length: count }, (_, i) => ({
          sessionId,
          role: 'user',
          content: `line ${from + i} `.repeat(8),
          clientMessageId: `h-${from + i}`,
        })),
      );
    const first = lines(0, 200);
    expect(first.length).toBeGreaterThan(4096);
    // The typed client sends a Uint8Array (or Blob) as application/octet-stream.
    const receipt = await api.client(headers).messages.import.mutate(new TextEncoder().encode(first));
    expect(receipt).toMatchObject({ imported: 200, sessions: [{ sessionId, firstSeq: 1, lastSeq: 200 }] });

    const plain = await fetch(`${api.url}/trpc/messages.import`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/octet-stream' },
      body: lines(200, 100),
    });
    expect(plain.status).toBe(200);
    expect(await plain.json()).toMatchObject({ result: { data: { imported: 100 } } });

    const bad = await fetch(`${api.url}/trpc/messages.import`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/octet-stream' },
      body: `${lines(300, 50)}{"broken"\n${lines(350, 50)}`,
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { message: 'line 51 is not a JSON object' } });

    const huge = await fetch(`${api.url}/trpc/messages.import`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/octet-stream' },
      body: lines(1_000, 2_000),
    });
    expect(huge.status).toBe(413);
    expect(await sessionCounters(testDb.orm, sessionId)).toMatchObject({ lastSeq: 300, messageCount: 300 });
    // Other procedures keep LIMIT_MAX_BODY_BYTES.
    const appendMany = await fetch(`${api.url}/trpc/messages.appendMany`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ sessionId, messages: [{ role: 'user', content: 'z'.repeat(8_000) }] }),
    });
    expect(appendMany.status).toBe(413);
  });
});
