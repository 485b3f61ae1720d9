import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONTENT_LIMITS, type ContentLimits, type TNewMessage } from '@threadstore/contract';
import { useTestDatabase } from '@threadstore/db/testing';
import { anonymousPrincipal } from '@threadstore/domain/testing';
import { createLogger } from '@threadstore/runtime';
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import type { AppRouter } from '../../index.ts';
import { createApiServer, type ApiServer } from '../../server.ts';
import { callerAs } from '../../testing/caller.ts';
import { testServerConfig } from '../../testing/server-config.ts';
import { createSession, sessionCounters, signedInUser, storedMessages } from './testing.ts';

const LONE_HIGH = '\uD83D';
const LONE_LOW = '\uDE00';
const FFFD = '\uFFFD';

describe('hostile content', () => {
  const testDb = useTestDatabase();

  async function appendAndRead(message: TNewMessage) {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user);
    const appended = await api.messages.append({ sessionId, ...message });
    // Read back through a fresh request, from the database, not from the append's answer.
    const stored = await callerAs(testDb.orm, user).messages.get({ id: appended.id });
    expect(stored).toEqual(appended);
    return stored;
  }

  it.each([
    ['a NUL', 'before\0after', `before${FFFD}after`],
    ['a lone high surrogate', `cut emoji ${LONE_HIGH}`, `cut emoji ${FFFD}`],
    ['a lone low surrogate', `${LONE_LOW} at the start`, `${FFFD} at the start`],
    ['several of each', `\0${LONE_HIGH}😀${LONE_LOW}\0`, `${FFFD}${FFFD}😀${FFFD}${FFFD}`],
  ])('stores content with %s as U+FFFD and marks the message sanitized', async (_, content, expected) => {
    expect(await appendAndRead({ role: 'assistant', content })).toMatchObject({ content: expected, sanitized: true });
  });

  it('cleans metadata keys and values, at any depth', async () => {
    const stored = await appendAndRead({
      role: 'tool',
      content: 'clean',
      metadata: { 'key\0': `value${LONE_HIGH}`, nested: { list: ['\0', { [LONE_LOW]: 1 }] } },
    });
    expect(stored.sanitized).toBe(true);
    expect(stored.metadata).toEqual({
      [`key${FFFD}`]: `value${FFFD}`,
      nested: { list: [FFFD, { [FFFD]: 1 }] },
    });
  });

  it('cleans tool calls and citations', async () => {
    const stored = await appendAndRead({
      role: 'assistant',
      content: 'clean',
      toolCalls: [{ name: 'search', arguments: { 'q\0': `\0${LONE_HIGH}` } }],
      citations: [`source${LONE_LOW}`, { title: '\0' }],
    });
    expect(stored).toMatchObject({
      sanitized: true,
      toolCalls: [{ name: 'search', arguments: { [`q${FFFD}`]: `${FFFD}${FFFD}` } }],
      citations: [`source${FFFD}`, { title: FFFD }],
    });
  });

  it('stores a batch whole when one of its messages is dirty, marking only that one', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const { items } = await callerAs(testDb.orm, user).messages.appendMany({
      sessionId,
      messages: [
        { role: 'user', content: 'fine' },
        { role: 'tool', content: 'binary\0output', metadata: { [`k${LONE_HIGH}`]: 'v' } },
        { role: 'assistant', content: 'fine too' },
      ],
    });
    expect(items.map(({ seq, content, sanitized }) => [seq, content, sanitized])).toEqual([
      [1, 'fine', false],
      [2, `binary${FFFD}output`, true],
      [3, 'fine too', false],
    ]);
  });

  it('round-trips valid Unicode byte for byte, unmarked', async () => {
    const content = [
      '😀 emoji',
      '👨‍👩‍👧‍👦 ZWJ family, 🏳️‍🌈 ZWJ flag, 👍🏽 skin tone',
      '🇫🇷 🇯🇵 🇺🇳 flags',
      'مرحبا بالعالم — Arabic',
      'שָׁלוֹם עוֹלָם — Hebrew with points',
      'e\u0301 a\u0308 combining marks, Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇',
      '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𐍈 non-BMP, \u200B zero width, \u202E RTL override',
      `${FFFD} an honest replacement character`,
    ].join('\n');
    const metadata = { '🔑': '👨‍👩‍👧‍👦', مفتاح: ['שלום', 'e\u0301'] };
    const stored = await appendAndRead({ role: 'user', content, metadata, citations: ['🇫🇷'], toolCalls: [{ '𝔘': 1 }] });

    expect(stored).toMatchObject({ content, metadata, citations: ['🇫🇷'], toolCalls: [{ '𝔘': 1 }], sanitized: false });
    expect(Buffer.from(stored.content, 'utf8').equals(Buffer.from(content, 'utf8'))).toBe(true);
  });
});

describe('content limits', () => {
  const testDb = useTestDatabase();
  const limits: ContentLimits = {
    maxContentBytes: 16,
    maxJsonBytes: 32,
    maxJsonDepth: 3,
    maxBatchSize: 3,
    defaultPageSize: 2,
    maxPageSize: 4,
  };

  async function expectRefusal(
    call: (api: ReturnType<typeof callerAs>, sessionId: string) => Promise<unknown>,
    details: Record<string, unknown>,
    message: RegExp,
  ) {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user, { limits });
    await expect(call(api, sessionId)).rejects.toMatchObject({ code: 'BAD_REQUEST', message, cause: { details } });
    expect(await storedMessages(testDb.orm, sessionId)).toEqual([]);
    expect(await sessionCounters(testDb.orm, sessionId)).toMatchObject({ lastSeq: 0, messageCount: 0 });
  }

  it('refuses content over maxContentBytes, counted in UTF-8 bytes', async () => {
    // Sixteen bytes are fine; four emoji and one more byte are not, though only nine UTF-16 units.
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    await callerAs(testDb.orm, user, { limits }).messages.append({ sessionId, role: 'user', content: '😀😀😀😀' });
    await expectRefusal(
      (api, id) => api.messages.append({ sessionId: id, role: 'user', content: '😀😀😀😀!' }),
      { limit: 'maxContentBytes', max: 16, actual: 17, field: 'content' },
      /^content is 17 bytes; the limit maxContentBytes is 16$/,
    );
  });

  it.each(['metadata', 'citations', 'toolCalls'] as const)('refuses %s over maxJsonBytes', async (field) => {
    const value = field === 'metadata' ? { text: 'x'.repeat(40) } : ['x'.repeat(40)];
    await expectRefusal(
      (api, id) => api.messages.append({ sessionId: id, role: 'user', content: 'ok', [field]: value }),
      { limit: 'maxJsonBytes', max: 32, field },
      new RegExp(`^${field} is \\d+ bytes as JSON; the limit maxJsonBytes is 32$`),
    );
  });

  it.each(['metadata', 'citations', 'toolCalls'] as const)(
    'refuses %s nested deeper than maxJsonDepth',
    async (field) => {
      const value = field === 'metadata' ? { a: { b: { c: {} } } } : [[[[]]]];
      await expectRefusal(
        (api, id) => api.messages.append({ sessionId: id, role: 'user', content: 'ok', [field]: value }),
        { limit: 'maxJsonDepth', max: 3, actual: 4, field },
        new RegExp(`^${field} nests more than 3 levels deep; the limit maxJsonDepth is 3$`),
      );
    },
  );

  it('refuses 100,000 levels of nesting with a BAD_REQUEST, under the default limits too', async () => {
    const deep = JSON.parse('{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000)) as Record<string, unknown>;
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    await expect(
      callerAs(testDb.orm, user).messages.append({ sessionId, role: 'user', content: 'ok', metadata: deep }),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      cause: { details: { limit: 'maxJsonDepth', max: DEFAULT_CONTENT_LIMITS.maxJsonDepth, field: 'metadata' } },
    });
    expect(await storedMessages(testDb.orm, sessionId)).toEqual([]);
  });

  it('refuses a batch over maxBatchSize', async () => {
    await expectRefusal(
      (api, id) =>
        api.messages.appendMany({
          sessionId: id,
          messages: Array.from({ length: 4 }, () => ({ role: 'user' as const, content: 'x' })),
        }),
      { limit: 'maxBatchSize', max: 3, actual: 4 },
      /^a batch of 4 messages; the limit maxBatchSize is 3$/,
    );
  });

  it('refuses a page over maxPageSize, for history and thread', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user, { limits });
    const message = await api.messages.append({ sessionId, role: 'user', content: 'x' });
    for (const call of [
      () => api.messages.history({ sessionId, limit: 5 }),
      () => api.messages.thread({ id: message.id, limit: 5 }),
    ]) {
      await expect(call()).rejects.toMatchObject({
        code: 'BAD_REQUEST',
        message: 'a page holds at most 4 items (maxPageSize)',
        cause: { details: { limit: 'maxPageSize', max: 4, actual: 5 } },
      });
    }
    expect(await api.messages.history({ sessionId, limit: 4 })).toMatchObject({ items: [{ id: message.id }] });
  });
});

describe('hostile content over HTTP', () => {
  const testDb = useTestDatabase();
  let api: ApiServer;
  let url: string;
  const visitor = anonymousPrincipal();

  beforeAll(async () => {
    api = createApiServer({ orm: testDb.orm, logger: createLogger('test', 'silent'), config: testServerConfig() });
    url = `http://127.0.0.1:${(await api.listen()).port}/trpc`;
  });
  afterAll(() => api?.close());

  const client = () =>
    createTRPCClient<AppRouter>({
      links: [httpLink({ url, headers: { 'x-session-id': visitor.anonymousId } })],
    });

  it('carries NULs and lone surrogates in JSON escapes through to U+FFFD', async () => {
    const sessionId = await createSession(testDb.orm, visitor);
    // The body travels as JSON text: "\u0000" and "\ud83d" escapes, exactly as an LLM SDK would send them.
    const message = await client().messages.append.mutate({
      sessionId,
      role: 'assistant',
      content: `nul\0 half${LONE_HIGH}`,
      metadata: { '\0': LONE_LOW },
    });
    expect(message).toMatchObject({
      content: `nul${FFFD} half${FFFD}`,
      metadata: { [FFFD]: FFFD },
      sanitized: true,
    });
  });

  it('answers 100,000 levels of nesting with HTTP 400, not a 500', async () => {
    const sessionId = await createSession(testDb.orm, visitor);
    const body = `{"sessionId":"${sessionId}","role":"user","content":"x","toolCalls":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const response = await fetch(`${url}/messages.append`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-session-id': visitor.anonymousId },
      body,
    });
    expect(response.status).toBe(400);
    const answer = (await response.json()) as { error: { data: Record<string, unknown> } };
    expect(answer.error.data).toMatchObject({
      code: 'BAD_REQUEST',
      details: { limit: 'maxJsonDepth', max: DEFAULT_CONTENT_LIMITS.maxJsonDepth, field: 'toolCalls' },
    });
    expect(await storedMessages(testDb.orm, sessionId)).toEqual([]);
  });

  it('answers malformed fields with a typed 400 carrying the field errors', async () => {
    const sessionId = await createSession(testDb.orm, visitor);
    const error = await client()
      .messages.append.mutate({ sessionId, role: 'user', content: 'x', promptTokens: 2 ** 31 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error as TRPCClientError<AppRouter>).data).toMatchObject({
      code: 'BAD_REQUEST',
      httpStatus: 400,
      zodError: { fieldErrors: { promptTokens: [expect.any(String)] } },
    });
  });
});
