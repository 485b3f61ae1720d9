import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import { createLogger } from '@threadstore/runtime';
import type { TChatStreamEvent } from '@threadstore/contract';
import { collect, eventually, liveClient } from '../../../test/live-client.ts';
import { startFakeModel, type FakeModel } from '../../testing/fake-model.ts';
import { failureOf } from '../../../test/http-api.ts';
import { createApiServer, type ApiServer } from '../../server.ts';
import { testServerConfig } from '../../testing/server-config.ts';

const testDb = useTestDatabase();

const PRICE = { prompt: '0.000001', completion: '0.000003' };

describe('the conversation loop over HTTP, against an OpenAI-compatible model on a real socket', () => {
  let model: FakeModel;
  let api: ApiServer;
  let url: string;
  beforeAll(async () => {
    model = await startFakeModel();
    api = createApiServer({
      orm: testDb.orm,
      logger: createLogger('test', 'silent'),
      config: testServerConfig({
        CHAT_RESPONDER: 'openai',
        CHAT_MODEL: 'fake-1',
        CHAT_SYSTEM_PROMPT: 'Be brief.',
        CHAT_OPENAI_BASE_URL: model.url,
        CHAT_OPENAI_TIMEOUT_MS: 1_500,
        CHAT_OPENAI_MAX_RETRIES: 2,
        CHAT_OPENAI_RETRY_BASE_MS: 10,
        CHAT_FLUSH_INTERVAL_MS: 50,
        CHAT_PRICES: { 'fake-1': PRICE },
      }),
    });
    url = `http://127.0.0.1:${(await api.listen()).port}/trpc`;
  });
  afterAll(async () => {
    await api?.close();
    await model?.close();
  });
  beforeEach(() => {
    model.requests.length = 0;
    model.fallback = {};
  });

  const visitor = async () => {
    const client = liveClient(url, randomUUID());
    const session = await client.sessions.create.mutate({ title: 'chat' });
    return { client, session };
  };

  const sql = <T>(text: string, params: unknown[] = []) =>
    testDb.orm.em.fork().getConnection().execute<T[]>(text, params);

  it('commits the user message before calling the model, then stores the answer with model, tokens, latency and cost', async () => {
    const { client, session } = await visitor();
    const seenByModel: string[] = [];
    model.script({
      onRequest: async () => {
        const rows = await sql<{ content: string }>(
          `select content from chat_messages where session_id = ? and role = 'user'`,
          [session.id],
        );
        seenByModel.push(...rows.map(({ content }) => content));
      },
    });
    const turn = await client.chat.send.mutate({ sessionId: session.id, content: 'hello there' });
    expect(seenByModel).toEqual(['hello there']);
    expect(turn).toMatchObject({
      status: 'completed',
      stopReason: null,
      generationStatus: 'complete',
      userMessage: { role: 'user', content: 'hello there', seq: 1 },
      answer: { role: 'assistant', content: 'echo: hello there', seq: 2, model: 'fake-1', completionTokens: 3 },
    });
    // The model received the system prompt and the user's message, assembled on the server.
    expect(model.requests[0]!.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hello there' },
    ]);
    const promptTokens = 22; // the fake model reports 11 per message
    expect(turn.answer!.promptTokens).toBe(promptTokens);
    expect(turn.answer!.cost).toBe('0.0000310000'); // 22 × 0.000001 + 3 × 0.000003, exact
    expect(turn.answer!.latencyMs).toEqual(expect.any(Number));
    expect(turn.context).toMatchObject({ messageIds: [turn.userMessage.id], systemPrompt: true, memoryIds: [] });
    const after = await client.sessions.get.query({ id: session.id });
    expect(after).toMatchObject({ totalCost: '0.000031', round: 1, messageCount: 2 });
  });

  it('sends the recent history that fits the budget, and records which messages went in', async () => {
    const { client, session } = await visitor();
    const first = await client.chat.send.mutate({ sessionId: session.id, content: 'one' });
    const second = await client.chat.send.mutate({ sessionId: session.id, content: 'two' });
    expect(model.requests[1]!.messages.map(({ content }) => content)).toEqual(['Be brief.', 'one', 'echo: one', 'two']);
    expect(second.context!.messageIds).toEqual([first.userMessage.id, first.answer!.id, second.userMessage.id]);
  });

  it('calls the model once for a retried send with the same clientMessageId', async () => {
    const { client, session } = await visitor();
    const clientMessageId = randomUUID();
    const [a, b] = await Promise.all([
      client.chat.send.mutate({ sessionId: session.id, content: 'once', clientMessageId }),
      client.chat.send.mutate({ sessionId: session.id, content: 'once', clientMessageId }),
    ]);
    const c = await client.chat.send.mutate({ sessionId: session.id, content: 'once', clientMessageId });
    expect(new Set([a.id, b.id, c.id]).size).toBe(1);
    expect(c.status).toBe('completed');
    expect(model.requests).toHaveLength(1);
    expect((await client.messages.history.query({ sessionId: session.id })).items).toHaveLength(2);
  });

  it('streams the answer with event ids; a client that disconnects still finds the whole answer in history', async () => {
    const { client, session } = await visitor();
    const tokens = Array.from({ length: 30 }, (_, i) => ` t${i}`);
    model.script({ tokens, delayMs: 20 });
    const turn = await client.chat.send.mutate({ sessionId: session.id, content: 'go', wait: false });
    const seen = await collect<{ id: string; data: TChatStreamEvent }>(
      (handlers) => client.chat.stream.subscribe({ turnId: turn.id }, handlers),
      (events) => events.length >= 3,
    );
    expect(seen[0]!.data).toMatchObject({ type: 'delta', offset: 0 });
    // Gone mid-answer; the answer goes on without anyone listening.
    const finished = await eventually(async () => {
      const state = await client.chat.turn.query({ turnId: turn.id });
      return state.status === 'completed' ? state : undefined;
    }, 'the answer to finish');
    expect(finished.answer!.content).toBe(tokens.join(''));
    const history = await client.messages.history.query({ sessionId: session.id });
    expect(history.items.map(({ content }) => content)).toEqual(['go', tokens.join('')]);
    // What send answered without reading back is the turn as it was committed.
    expect(turn).toMatchObject({ sessionId: session.id, status: 'running', stopReason: null });
    expect(turn.userMessage).toEqual(history.items[0]);
    const { id, seq, role, parentId, createdAt } = history.items[1]!;
    expect(turn.answer).toMatchObject({ id, seq, role, parentId, createdAt, content: '' });
    expect(turn.generationStatus).toBe('generating');
  });

  it('resumes a stream from its last event id with no gap and no repeat', async () => {
    const { client, session } = await visitor();
    const tokens = Array.from({ length: 40 }, (_, i) => ` w${i}`);
    model.script({ tokens, delayMs: 15 });
    const turn = await client.chat.send.mutate({ sessionId: session.id, content: 'go', wait: false });
    const part1 = await collect<{ id: string; data: TChatStreamEvent }>(
      (handlers) => client.chat.stream.subscribe({ turnId: turn.id }, handlers),
      (events) => events.length >= 5,
    );
    const lastEventId = part1.at(-1)!.id;
    const part2 = await collect<{ id: string; data: TChatStreamEvent }>(
      (handlers) => client.chat.stream.subscribe({ turnId: turn.id, lastEventId }, handlers),
      (events) => events.at(-1)?.data.type === 'done',
    );
    const text = [...part1, ...part2].map(({ data }) => (data.type === 'delta' ? data.text : '')).join('');
    expect(text).toBe(tokens.join(''));
    // Each delta starts exactly where the previous one ended.
    let offset = 0;
    for (const { id, data } of [...part1, ...part2]) {
      if (data.type !== 'delta') continue;
      expect(data.offset).toBe(offset);
      offset += data.text.length;
      expect(id).toBe(String(offset));
    }
    expect(part2.at(-1)!.data).toMatchObject({ type: 'done', turn: { status: 'completed' } });
  });

  it('retries 429 and 500 with backoff, then answers', async () => {
    const { client, session } = await visitor();
    model.script({ status: 429 }, { status: 503 });
    const turn = await client.chat.send.mutate({ sessionId: session.id, content: 'persist' });
    expect(turn).toMatchObject({ status: 'completed', answer: { content: 'echo: persist' } });
    expect(model.requests).toHaveLength(3);
  });

  it.each([
    ['a model that keeps failing with 500', { status: 500 }, 'model_error', ''],
    ['a malformed chunk', { tokens: ['a', 'b', 'c', 'd'], malformedAfter: 2 }, 'model_error', 'ab'],
    ['a dropped connection', { tokens: ['a', 'b', 'c', 'd'], dropAfter: 3 }, 'model_error', 'abc'],
    ['a stalled model', { tokens: ['a', 'b', 'c', 'd'], stallAfter: 2 }, 'timeout', 'ab'],
  ])(
    'keeps the partial answer after %s, marked incomplete with its stop reason',
    async (_, behaviour, reason, partial) => {
      const { client, session } = await visitor();
      model.fallback = behaviour;
      const turn = await client.chat.send.mutate({ sessionId: session.id, content: 'try' });
      expect(turn).toMatchObject({
        status: 'incomplete',
        stopReason: reason,
        generationStatus: 'incomplete',
        answer: { content: partial },
      });
      const [row] = await sql<{ generation_status: string; stop_reason: string }>(
        'select generation_status, stop_reason from chat_messages where id = ?',
        [turn.answer!.id],
      );
      expect(row).toEqual({ generation_status: 'incomplete', stop_reason: reason });
    },
  );

  it('chat.cancel stops the answer and keeps what was written', async () => {
    const { client, session } = await visitor();
    model.script({ tokens: Array.from({ length: 200 }, (_, i) => ` c${i}`), delayMs: 20 });
    const turn = await client.chat.send.mutate({ sessionId: session.id, content: 'long', wait: false });
    await eventually(async () => {
      const state = await client.chat.turn.query({ turnId: turn.id });
      return state.answer!.content.length > 10 ? state : undefined;
    }, 'a partial answer in the database');
    const cancelled = await client.chat.cancel.mutate({ turnId: turn.id });
    expect(cancelled).toMatchObject({ status: 'incomplete', stopReason: 'cancelled', generationStatus: 'incomplete' });
    expect(cancelled.answer!.content.length).toBeGreaterThan(10);
    expect(cancelled.answer!.content.length).toBeLessThan(200 * 4);
  });

  it('rejects a second send while the first is answered, naming the running turn', async () => {
    const { client, session } = await visitor();
    model.script({ tokens: Array.from({ length: 20 }, (_, i) => ` r${i}`), delayMs: 20 });
    const first = await client.chat.send.mutate({ sessionId: session.id, content: 'first', wait: false });
    const error = await failureOf(
      client.chat.send.mutate({ sessionId: session.id, content: 'second', concurrency: 'reject' }),
    );
    expect(error.data).toMatchObject({ code: 'CONFLICT', details: { turnId: first.id } });
    // Refused means nothing was written.
    expect(
      (await client.messages.history.query({ sessionId: session.id })).items.map(({ content }) => content),
    ).not.toContain('second');
  });

  it("answers a stranger's send to someone else's session with NOT_FOUND, never calling the model", async () => {
    const { session } = await visitor();
    const stranger = liveClient(url, randomUUID());
    const error = await failureOf(stranger.chat.send.mutate({ sessionId: session.id, content: 'hi' }));
    expect(error.data?.code).toBe('NOT_FOUND');
    expect(model.requests).toHaveLength(0);
  });
});
