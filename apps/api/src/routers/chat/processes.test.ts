import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import { startServiceProcess, type ServiceProcess } from '@threadstore/runtime/testing';
import type { TSessionWatchEvent } from '@threadstore/contract';
import { collect, eventually, liveClient } from '../../../test/live-client.ts';
import { startFakeModel, type FakeModel } from '../../testing/fake-model.ts';
import { failureOf } from '../../../test/http-api.ts';

const API_DIR = fileURLToPath(new URL('../../..', import.meta.url));
const START_TIMEOUT_MS = 30_000;

const testDb = useTestDatabase();

/**
 * Whole API processes (`node src/main.ts`), several at once on one database, answering with an
 * OpenAI-compatible model served from this test on a real socket.
 */
// Each test starts whole processes (about 20 s each on a busy two-core machine).
describe('the conversation loop across API processes', { timeout: 180_000 }, () => {
  let model: FakeModel;
  const running = new Set<ServiceProcess>();

  beforeAll(async () => {
    model = await startFakeModel();
  });
  afterEach(() => {
    for (const api of running) api.kill();
    running.clear();
    model.fallback = {};
  });
  afterAll(() => model?.close());

  async function startApi(): Promise<{ process: ServiceProcess; url: string }> {
    const api = startServiceProcess(
      'src/main.ts',
      {
        DATABASE_URL: testDb.db.url,
        API_HOST: '127.0.0.1',
        API_PORT: '0',
        LOG_LEVEL: 'info',
        NODE_ENV: 'production',
        CHAT_RESPONDER: 'openai',
        CHAT_MODEL: 'fake-1',
        CHAT_OPENAI_BASE_URL: model.url,
        CHAT_FLUSH_INTERVAL_MS: '50',
        // Every test client shares 127.0.0.1: the per-address budget would refuse the polling.
        RATE_LIMIT_ADDRESS_PER_MINUTE: '0',
      },
      API_DIR,
    );
    running.add(api);
    const listening = await api.waitFor((line) => line.msg === 'listening', '"listening"', START_TIMEOUT_MS);
    return { process: api, url: `http://127.0.0.1:${String(listening.port)}/trpc` };
  }

  const slowAnswer = (count: number, delayMs = 30) => ({
    tokens: Array.from({ length: count }, (_, i) => ` s${i}`),
    delayMs,
  });

  const answerRow = async (messageId: string) => {
    const [row] = await testDb.orm.em
      .fork()
      .getConnection()
      .execute<{ content: string; generation_status: string; stop_reason: string | null }[]>(
        'select content, generation_status, stop_reason from chat_messages where id = ?',
        [messageId],
      );
    return row!;
  };

  it('marks an answer interrupted when its API process is killed with -9 mid-answer, keeping the partial text', async () => {
    const a = await startApi();
    const anonymousId = randomUUID();
    const client = liveClient(a.url, anonymousId);
    const session = await client.sessions.create.mutate({});
    model.fallback = slowAnswer(400, 25);
    const turn = await client.chat.send.mutate({ sessionId: session.id, content: 'long', wait: false });
    const partial = await eventually(async () => {
      const row = await answerRow(turn.answer!.id);
      return row.content.length > 20 ? row : undefined;
    }, 'a partial answer written by process A');
    expect(partial.generation_status).toBe('generating');
    a.process.kill();
    await a.process.exited();
    model.fallback = {};

    const b = await startApi();
    const after = await eventually(async () => {
      const state = await liveClient(b.url, anonymousId).chat.turn.query({ turnId: turn.id });
      return state.status === 'interrupted' ? state : undefined;
    }, 'the restarted API to mark the answer interrupted');
    expect(after).toMatchObject({ stopReason: 'interrupted', generationStatus: 'interrupted' });
    expect(after.answer!.content.startsWith(partial.content)).toBe(true);
    // The session is free again: the next send is answered at once.
    const next = await liveClient(b.url, anonymousId).chat.send.mutate({ sessionId: session.id, content: 'again' });
    expect(next).toMatchObject({ status: 'completed', answer: { content: 'echo: again' } });
  });

  describe('with two API processes on one database', () => {
    let a: { process: ServiceProcess; url: string };
    let b: { process: ServiceProcess; url: string };
    const both = async () => {
      [a, b] = await Promise.all([startApi(), startApi()]);
      const anonymousId = randomUUID();
      const viaA = liveClient(a.url, anonymousId);
      const viaB = liveClient(b.url, anonymousId);
      const session = await viaA.sessions.create.mutate({});
      return { viaA, viaB, session };
    };

    it('reject: of two racing sends, one runs and the other is refused naming it', async () => {
      const { viaA, viaB, session } = await both();
      model.fallback = slowAnswer(30);
      const outcomes = await Promise.allSettled([
        viaA.chat.send.mutate({ sessionId: session.id, content: 'from A', concurrency: 'reject', wait: false }),
        viaB.chat.send.mutate({ sessionId: session.id, content: 'from B', concurrency: 'reject', wait: false }),
      ]);
      const accepted = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
      expect(accepted).toHaveLength(1);
      expect(refused).toHaveLength(1);
      const error = await failureOf(Promise.reject(refused[0]));
      expect(error.data).toMatchObject({ code: 'CONFLICT', details: { turnId: accepted[0]!.id } });
      // While it runs, a send through either process is refused too.
      const again = await failureOf(
        viaB.chat.send.mutate({ sessionId: session.id, content: 'B again', concurrency: 'reject' }),
      );
      expect(again.data?.code).toBe('CONFLICT');
    });

    it('enqueue: a send through B while A answers runs after it, in order', async () => {
      const { viaA, viaB, session } = await both();
      model.fallback = slowAnswer(15);
      const first = await viaA.chat.send.mutate({ sessionId: session.id, content: 'first', wait: false });
      const second = await viaB.chat.send.mutate({ sessionId: session.id, content: 'second', concurrency: 'enqueue' });
      expect(second).toMatchObject({ status: 'completed' });
      expect(await viaA.chat.turn.query({ turnId: first.id })).toMatchObject({ status: 'completed' });
      const history = await viaB.messages.history.query({ sessionId: session.id });
      expect(history.items.map(({ role, content }) => `${role}:${content.slice(0, 6)}`)).toEqual([
        'user:first',
        'assistant: s0 s1',
        'user:second',
        'assistant: s0 s1',
      ]);
    });

    it('interrupt: a send through B stops the answer A is writing (kept, incomplete) and is answered next', async () => {
      const { viaA, viaB, session } = await both();
      model.fallback = slowAnswer(400, 25);
      const first = await viaA.chat.send.mutate({ sessionId: session.id, content: 'first', wait: false });
      await eventually(async () => {
        const row = await answerRow(first.answer!.id);
        return row.content.length > 10 ? row : undefined;
      }, 'a partial answer');
      model.fallback = {};
      const second = await viaB.chat.send.mutate({
        sessionId: session.id,
        content: 'second',
        concurrency: 'interrupt',
      });
      expect(second).toMatchObject({ status: 'completed', answer: { content: 'echo: second' } });
      const stopped = await viaA.chat.turn.query({ turnId: first.id });
      expect(stopped).toMatchObject({
        status: 'incomplete',
        stopReason: 'interrupted',
        generationStatus: 'incomplete',
      });
      expect(stopped.answer!.content.length).toBeGreaterThan(10);
    });

    it('watch on A sees an append made through B, and an answer written by B as it grows', async () => {
      const { viaA, viaB, session } = await both();
      model.fallback = slowAnswer(20, 20);
      const events = collect<{ id: string; data: TSessionWatchEvent }>(
        (handlers) => viaA.sessions.watch.subscribe({ sessionId: session.id }, handlers),
        (seen) =>
          seen.some(({ data }) => data.type === 'message' && data.message.content === 'appended via B') &&
          seen.some(({ data }) => data.type === 'message' && data.generationStatus === 'complete'),
      );
      // The subscription is open once its first (session) event arrived; give it a moment.
      await new Promise((resolve) => setTimeout(resolve, 500));
      await viaB.messages.append.mutate({ sessionId: session.id, role: 'user', content: 'appended via B' });
      await viaB.chat.send.mutate({ sessionId: session.id, content: 'and a question' });
      const seen = await events;
      const messages = seen.flatMap(({ data }) => (data.type === 'message' ? [data] : []));
      expect(messages.some(({ generationStatus }) => generationStatus === 'generating')).toBe(true);
      expect(messages.at(-1)).toMatchObject({ generationStatus: 'complete', message: { role: 'assistant' } });
      // Event ids are the last seq delivered: 3 messages by the end.
      expect(seen.at(-1)!.id).toBe('3');
    });
  });
});
