import { request as httpRequest, Agent } from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MikroORM } from '@threadstore/db';
import { createTestDatabase, migrationNames, type TestDatabase } from '@threadstore/db/testing';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import { captureLogs, type JsonLine } from '@threadstore/runtime/testing';
import { startBrokenDatabase, type BrokenDatabase } from '../test/unreachable-database.ts';
import type { AppRouter } from './index.ts';
import { createApiServer, type ApiServer, type ApiServerConfig } from './server.ts';
import { testServerConfig } from './testing/server-config.ts';

const config: ApiServerConfig = testServerConfig();

interface Running {
  api: ApiServer;
  baseUrl: string;
  lines: JsonLine[];
}

async function start(orm: MikroORM, overrides: Partial<ApiServerConfig> = {}): Promise<Running> {
  const { logger, logs } = captureLogs('api');
  const api = createApiServer({ orm, logger, config: { ...config, ...overrides } });
  const { port } = await api.listen();
  return { api, baseUrl: `http://127.0.0.1:${port}`, lines: logs.lines };
}

describe('the API server on a migrated database', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let running: Running;

  beforeAll(async () => {
    db = await createTestDatabase(inject('testPostgres'));
    orm = await db.createOrm();
    running = await start(orm);
  });
  afterAll(async () => {
    await running?.api.close();
    await orm?.close();
    await db?.drop();
  });

  it('answers /healthz without asking the database', async () => {
    const response = await fetch(`${running.baseUrl}/healthz`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz with 200 and the database state', async () => {
    const response = await fetch(`${running.baseUrl}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ready',
      database: { reachable: true, latencyMs: expect.any(Number), pendingMigrations: [] },
      problems: [],
    });
  });

  it('serves health.check to a typed tRPC client', async () => {
    const client = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${running.baseUrl}/trpc` })] });
    const health = await client.health.check.query();
    expect(health).toMatchObject({ status: 'ok', database: { reachable: true, pendingMigrations: [] } });
  });

  it('answers a tRPC call, a batch and a refusal whole, with a Content-Length instead of chunks', async () => {
    for (const [path, status] of [
      ['/trpc/health.check', 200],
      ['/trpc/health.check,health.check?batch=1&input=%7B%7D', 200],
      ['/trpc/health.nope', 404],
    ] as const) {
      const response = await fetch(`${running.baseUrl}${path}`);
      expect(response.status).toBe(status);
      expect(response.headers.get('transfer-encoding')).toBeNull();
      const body = Buffer.from(await response.arrayBuffer());
      expect(Number(response.headers.get('content-length'))).toBe(body.length);
      expect(JSON.parse(body.toString('utf8'))).toBeTypeOf('object');
    }
  });

  it('answers an unknown path with a JSON 404', async () => {
    const response = await fetch(`${running.baseUrl}/nope`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'not_found' });
  });

  // health.check takes no input, and tRPC only parses input a procedure asks for, so a bad
  // query-string input there is ignored; input validation itself is covered in trpc/init.test.ts.
  it('answers a malformed JSON body with a typed tRPC 4xx, not a 500', async () => {
    const response = await fetch(`${running.baseUrl}/trpc/health.check`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(response.status).toBe(405);
    const body = (await response.json()) as { error: { data: Record<string, unknown> } };
    expect(body.error.data).toMatchObject({ code: 'METHOD_NOT_SUPPORTED', httpStatus: 405, path: 'health.check' });
    expect(running.lines).toContainEqual(
      expect.objectContaining({
        msg: 'procedure rejected the request',
        code: 'METHOD_NOT_SUPPORTED',
        requestId: response.headers.get('x-request-id'),
      }),
    );
  });

  it('answers a missing procedure with a typed tRPC 404', async () => {
    const response = await fetch(`${running.baseUrl}/trpc/health.nope`);
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: { data: Record<string, unknown> } };
    expect(body.error.data).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('answers TRACE and other methods tRPC does not serve with a typed 405, logging no error', async () => {
    for (const method of ['TRACE', 'PUT', 'DELETE', 'PATCH']) {
      // fetch refuses to send TRACE, so this goes through node:http.
      const { status, body, allow } = await new Promise<{ status: number; body: string; allow: unknown }>(
        (resolve, reject) => {
          const req = httpRequest(`${running.baseUrl}/trpc/health.check`, { method }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, allow: res.headers.allow }));
          });
          req.on('error', reject);
          req.end();
        },
      );
      expect({ method, status }).toEqual({ method, status: 405 });
      expect(allow).toBe('GET, POST');
      expect(JSON.parse(body)).toMatchObject({ error: { data: { code: 'METHOD_NOT_SUPPORTED', httpStatus: 405 } } });
    }
    expect(running.lines.filter((line) => line.level === 'error' || line.level === 'fatal')).toEqual([]);
  });

  it('logs one line per request with the caller’s request id, and echoes that id', async () => {
    const response = await fetch(`${running.baseUrl}/trpc/health.check`, { headers: { 'x-request-id': 'trace-42' } });
    await response.arrayBuffer();
    expect(response.headers.get('x-request-id')).toBe('trace-42');
    await expect
      .poll(() => running.lines.filter((line) => line.msg === 'request' && line.requestId === 'trace-42'))
      .toEqual([
        expect.objectContaining({
          level: 'info',
          method: 'GET',
          path: '/trpc/health.check',
          status: 200,
          durationMs: expect.any(Number),
        }),
      ]);
  });

  it('replaces an unacceptable request id with a fresh one', async () => {
    const response = await fetch(`${running.baseUrl}/healthz`, { headers: { 'x-request-id': 'x'.repeat(500) } });
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs probes at debug, so they do not flood the info log', async () => {
    const response = await fetch(`${running.baseUrl}/healthz`, { headers: { 'x-request-id': 'probe-1' } });
    await response.arrayBuffer();
    await expect
      .poll(() => running.lines.find((line) => line.requestId === 'probe-1'))
      .toMatchObject({ level: 'debug', msg: 'request', path: '/healthz', status: 200 });
  });
});

describe('/readyz when the database is not usable', () => {
  it('is 503 and names the migration an unmigrated database lacks', async () => {
    const db = await createTestDatabase(inject('testPostgres'), { empty: true });
    const orm = await db.createOrm();
    const running = await start(orm);
    try {
      const response = await fetch(`${running.baseUrl}/readyz`);
      expect(response.status).toBe(503);
      const body = (await response.json()) as { status: string; database: { pendingMigrations: string[] } };
      expect(body).toMatchObject({ status: 'not_ready', database: { reachable: true } });
      expect(body.database.pendingMigrations).toEqual(migrationNames());

      // Probes and health.check share one cached status: the reason is logged by the check that
      // found it, not once per probe.
      const viaTrpc = await fetch(`${running.baseUrl}/trpc/health.check`);
      expect(await viaTrpc.json()).toMatchObject({ result: { data: { status: 'degraded' } } });
      expect(running.lines.map((line) => line.msg)).toContain(
        `not ready: ${migrationNames().length} migration(s) not applied: ${migrationNames().join(', ')}`,
      );
    } finally {
      await running.api.close();
      await orm.close();
      await db.drop();
    }
  });

  it('is 503 at once when the database drops connections', async () => {
    const broken = await startBrokenDatabase('hang-up');
    const orm = await broken.createOrm();
    const running = await start(orm);
    try {
      const response = await fetch(`${running.baseUrl}/readyz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({
        status: 'not_ready',
        database: { reachable: false, latencyMs: null, pendingMigrations: [] },
        problems: ['database is unreachable'],
      });
    } finally {
      await running.api.close();
      await broken.close();
      await orm.close();
    }
  });

  describe('because it never answers', () => {
    const readinessTimeoutMs = 300;
    let broken: BrokenDatabase;
    let orm: MikroORM;
    let running: Running;
    beforeAll(async () => {
      broken = await startBrokenDatabase('silent');
      orm = await broken.createOrm();
      running = await start(orm, { READINESS_TIMEOUT_MS: readinessTimeoutMs });
    });
    afterAll(async () => {
      await running?.api.close();
      // Dropping the silent connections fails the pool's pending attempts, so it can close.
      await broken?.close();
      await orm?.close();
    });

    it('is 503 after READINESS_TIMEOUT_MS instead of hanging', async () => {
      const started = performance.now();
      const response = await fetch(`${running.baseUrl}/readyz`);
      const elapsedMs = performance.now() - started;
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({
        status: 'not_ready',
        database: { reachable: false, latencyMs: null },
        problems: [`database did not answer within ${readinessTimeoutMs} ms`],
      });
      // The pool's connect timeout is 60 s: only the readiness bound can explain an answer this soon.
      expect(elapsedMs).toBeGreaterThanOrEqual(readinessTimeoutMs - 5);
      expect(elapsedMs).toBeLessThan(10_000);
    });
  });
});

describe('closing the server', () => {
  it('finishes the request in flight, closes idle keep-alive sockets, then stops', async () => {
    const broken = await startBrokenDatabase('silent');
    const orm = await broken.createOrm();
    // A slow /readyz (the silent database makes it last the whole timeout) is the request in flight.
    const running = await start(orm, { READINESS_TIMEOUT_MS: 500 });
    const agent = new Agent({ keepAlive: true, maxSockets: 2 });
    try {
      // Leaves an idle keep-alive socket behind, which close() must not wait for.
      expect((await get(agent, `${running.baseUrl}/healthz`)).status).toBe(200);

      const inFlight = get(agent, `${running.baseUrl}/readyz`);
      await new Promise((resolve) => running.api.server.once('request', resolve));
      const closeStarted = performance.now();
      const closed = running.api.close().then(() => performance.now() - closeStarted);

      expect((await inFlight).status).toBe(503);
      // Without closing idle sockets, close() would wait out keepAliveTimeout (5 s) on them.
      expect(await closed).toBeLessThan(3_000);
      await expect(fetch(`${running.baseUrl}/healthz`)).rejects.toThrow();
    } finally {
      agent.destroy();
      await running.api.close();
      await broken.close();
      await orm.close();
    }
  });
});

describe('closing the server under load', () => {
  it('answers every request it accepted, refuses the rest cleanly, and announces what it stored', async () => {
    const db = await createTestDatabase(inject('testPostgres'));
    const orm = await db.createOrm();
    const running = await start(orm);
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const visitor = { 'x-session-id': '3c1e8f0a-6b2d-4e7f-9a1b-0c2d3e4f5a6b', 'content-type': 'application/json' };
    try {
      const created = await post(agent, `${running.baseUrl}/trpc/sessions.create`, visitor, '{"title":"busy"}');
      const sessionId = (JSON.parse(created.body) as { result: { data: { id: string } } }).result.data.id;
      const outcomes = new Map<string, number>();
      let acknowledged = 0;
      let closing: Promise<void> | null = null;
      // 16 keep-alive clients appending as fast as they can, until the server refuses them.
      const clients = Array.from({ length: 16 }, async (_, client) => {
        for (let i = 0; ; i += 1) {
          const body = JSON.stringify({ sessionId, role: 'user', content: `${client}/${i}` });
          const outcome = await post(agent, `${running.baseUrl}/trpc/messages.append`, visitor, body).then(
            ({ status }) => String(status),
            (error: NodeJS.ErrnoException) => error.code ?? 'error',
          );
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
          if (outcome === '200') acknowledged += 1;
          if (outcome !== '200') return;
          if (acknowledged >= 100) closing ??= running.api.close();
        }
      });
      await Promise.all(clients);
      await closing;
      // Nothing reset under a request, nothing answered with an error: the ones after the close
      // found the port closed, which a client knows means "not received".
      expect(Object.fromEntries(outcomes)).toEqual({ '200': acknowledged, ECONNREFUSED: 16 });
      const [stored] = await orm.em
        .fork()
        .getConnection()
        .execute<{ count: string }[]>('select count(*) as count from chat_messages where session_id = ?', [sessionId]);
      expect(Number(stored!.count)).toBe(acknowledged);
      expect(running.lines.filter((line) => line.level === 'warn' || line.level === 'error')).toEqual([]);
    } finally {
      agent.destroy();
      await running.api.close();
      await orm.close();
      await db.drop();
    }
  });
});

function post(
  agent: Agent,
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { agent, method: 'POST', headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
    })
      .on('error', reject)
      .end(body);
  });
}

function get(agent: Agent, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { agent }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}
