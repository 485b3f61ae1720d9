import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MikroORM } from '@threadstore/db';
import { createTestDatabase, type TestDatabase } from '@threadstore/db/testing';
import { createLogger } from '@threadstore/runtime';
import { createAuthenticator } from '../auth/authenticator.ts';
import { appRouter } from '../routers/_app.ts';
import { createApiServer, type ApiServer } from '../server.ts';
import { sendRaw, type RawResponse } from '../testing/raw-request.ts';
import { testServerConfig } from '../testing/server-config.ts';
import { createContext } from './context.ts';
import { createDirectCalls } from './direct.ts';

const OWNER = { 'x-session-id': '7d1c58a4-4f3e-4c55-9a52-2b0c8d3e6f10' };
const STRANGER = { 'x-session-id': '1f0e2d3c-4b5a-4978-8b6c-5d4e3f2a1b0c' };
const JSON_TYPE = { 'content-type': 'application/json' };
const config = testServerConfig({ LIMIT_MAX_BODY_BYTES: 4_096 });

interface Call {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  /** Written as given, chunk by chunk (no Content-Length: chunked). */
  chunks?: string[];
}

function send(baseUrl: string, { method, path, headers, chunks }: Call): Promise<RawResponse> {
  return sendRaw(`${baseUrl}${path}`, { method, headers, chunks });
}

const query = (procedure: string, input: unknown, headers: Record<string, string> = OWNER): Call => ({
  method: 'GET',
  path: `/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify(input))}`,
  headers,
});
const mutation = (procedure: string, body: string, headers: Record<string, string> = OWNER): Call => ({
  method: 'POST',
  path: `/trpc/${procedure}`,
  headers: { ...JSON_TYPE, ...headers },
  chunks: [body],
});

/** What a client can see of an answer: status, the headers tRPC sets, and the JSON. */
function visible(answer: RawResponse) {
  return {
    status: answer.status,
    contentType: answer.headers['content-type'],
    vary: answer.headers['vary'],
    retryAfter: answer.headers['retry-after'],
    allow: answer.headers['allow'],
    body: JSON.parse(answer.text) as unknown,
  };
}

describe('tRPC calls answered without the fetch adapter (trpc/direct.ts)', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let direct: ApiServer;
  let viaFetch: ApiServer;
  let directUrl: string;
  let fetchUrl: string;
  /** Answers 418 for any request the direct path leaves to tRPC. */
  let probe: Server;
  let probeUrl: string;
  let sessionId: string;

  beforeAll(async () => {
    db = await createTestDatabase(inject('testPostgres'));
    orm = await db.createOrm();
    const logger = createLogger('test', 'silent');
    direct = createApiServer({ orm, logger, config });
    viaFetch = createApiServer({ orm, logger, config, directCalls: false });
    directUrl = `http://127.0.0.1:${(await direct.listen()).port}`;
    fetchUrl = `http://127.0.0.1:${(await viaFetch.listen()).port}`;
    const directCalls = createDirectCalls({
      router: appRouter,
      endpoint: '/trpc',
      createContext: createContext({ orm, logger, config, authenticator: createAuthenticator(config) }),
      maxBatchSize: config.LIMIT_MAX_BATCH_CALLS,
      maxBodySize: config.LIMIT_MAX_BODY_BYTES,
    });
    probe = createServer((req, res) => {
      void directCalls(req, res).then((handled) => {
        if (handled) return;
        res.statusCode = 418;
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    probeUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;

    const created = await send(directUrl, mutation('sessions.getOrCreate', '{"clientKey":"compare","title":"Same"}'));
    sessionId = (JSON.parse(created.text) as { result: { data: { id: string } } }).result.data.id;
    await send(directUrl, mutation('messages.append', JSON.stringify(append('first'))));
  });
  afterAll(async () => {
    await new Promise((resolve) => probe?.close(resolve));
    await direct?.close();
    await viaFetch?.close();
    await orm?.close();
    await db?.drop();
  });

  const append = (clientMessageId: string) => ({ sessionId, role: 'user', content: 'hello', clientMessageId });

  /** Every call the direct path takes, each answered the same way by both paths (repeats are idempotent). */
  const directCases = (): [string, Call][] => [
    ['a query', query('messages.history', { sessionId, limit: 10 })],
    ['a query without input', { method: 'GET', path: '/trpc/sessions.tags', headers: OWNER }],
    ['an idempotent mutation', mutation('sessions.getOrCreate', '{"clientKey":"compare","title":"Same"}')],
    ['a repeated append', mutation('messages.append', JSON.stringify(append('first')))],
    [
      'a content type with parameters',
      {
        ...mutation('messages.append', JSON.stringify(append('first'))),
        headers: { 'content-type': 'Application/JSON; charset=utf-8', ...OWNER },
      },
    ],
    [
      'a batch of queries',
      {
        method: 'GET',
        path: `/trpc/sessions.get,messages.history?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { id: sessionId }, 1: { sessionId } }))}`,
        headers: OWNER,
      },
    ],
    [
      'a batch, one call refused (207)',
      {
        method: 'GET',
        path: `/trpc/sessions.get,sessions.get?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { id: sessionId }, 1: { id: 'nope' } }))}`,
        headers: OWNER,
      },
    ],
    [
      'a batch of mutations',
      {
        ...mutation(
          'sessions.getOrCreate,messages.append?batch=1',
          JSON.stringify({ 0: { clientKey: 'compare', title: 'Same' }, 1: append('first') }),
        ),
        path: '/trpc/sessions.getOrCreate,messages.append?batch=1',
      },
    ],
    ['no credentials', query('messages.history', { sessionId }, {})],
    ['another tenant’s session', query('messages.history', { sessionId }, STRANGER)],
    [
      'input of the wrong shape',
      mutation('messages.append', JSON.stringify({ sessionId, role: 'wizard', content: 1 })),
    ],
    ['a body that is not JSON', mutation('messages.append', '{"sessionId": "half')],
    ['a query input that is not JSON', { method: 'GET', path: '/trpc/messages.history?input=%7Bnope', headers: OWNER }],
    ['an empty body', mutation('messages.append', '')],
    [
      'a NUL byte in the content',
      mutation('messages.append', JSON.stringify({ ...append('nul'), content: 'a\u0000b' })),
    ],
    [
      'a batch whose input is not an object',
      { ...mutation('messages.append?batch=1', '[1, 2]'), path: '/trpc/messages.append?batch=1' },
    ],
    [
      'a chunked body past the limit',
      { ...mutation('messages.append', ''), chunks: ['{"content":"', 'x'.repeat(3_000), 'x'.repeat(3_000), '"}'] },
    ],
  ];

  /** Calls the direct path leaves to tRPC's adapter, which words their errors or streams them. */
  const fetchCases = (): [string, Call][] => [
    ['an unknown procedure', query('messages.nope', {})],
    ['a mutation sent as GET', query('messages.append', append('get'))],
    ['a query sent as POST', mutation('messages.history', JSON.stringify({ sessionId }))],
    [
      'a binary body',
      { ...mutation('messages.import', 'x'), headers: { 'content-type': 'application/octet-stream', ...OWNER } },
    ],
    [
      'a streamed (jsonl) batch',
      {
        ...query('messages.history', { 0: { sessionId } }),
        path: `/trpc/messages.history?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { sessionId } }))}`,
        headers: { 'trpc-accept': 'application/jsonl', ...OWNER },
      },
    ],
    ['a subscription', query('sessions.watch', { sessionId })],
    [
      'a batch mixing queries and mutations',
      {
        method: 'GET',
        path: `/trpc/sessions.get,messages.append?batch=1&input=${encodeURIComponent('{}')}`,
        headers: OWNER,
      },
    ],
  ];

  it('takes the common calls and leaves everything else to tRPC', async () => {
    for (const [name, call] of directCases()) {
      expect({ name, status: (await send(probeUrl, call)).status }).not.toEqual({ name, status: 418 });
    }
    for (const [name, call] of fetchCases()) {
      expect({ name, status: (await send(probeUrl, call)).status }).toEqual({ name, status: 418 });
    }
  });

  it('answers every call exactly as tRPC’s fetch adapter does', async () => {
    for (const [name, call] of directCases()) {
      const viaTrpc = visible(await send(fetchUrl, call));
      const viaDirect = visible(await send(directUrl, call));
      expect({ name, ...viaDirect }).toEqual({ name, ...viaTrpc });
    }
  });

  it('stores nothing for a refused call', async () => {
    const before = await send(directUrl, query('messages.history', { sessionId, limit: 100 }));
    for (const [, call] of directCases().filter(([name]) =>
      /wrong shape|not JSON|empty|limit|not an object/.test(name),
    )) {
      await send(directUrl, call);
    }
    const after = await send(directUrl, query('messages.history', { sessionId, limit: 100 }));
    expect(after.text).toBe(before.text);
  });
});
