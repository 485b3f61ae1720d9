import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgClientConfig } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { createTestUser } from '@threadstore/domain/testing';
import { createLogger } from '@threadstore/runtime';
import pg from 'pg';
import { startApi, type RunningApi } from '../../test/http-api.ts';
import { callerAs } from '../testing/caller.ts';
import { createPostgresRateLimiter } from '../trpc/rate-limit.ts';

interface Answer {
  status: number;
  retryAfter: string | undefined;
  body: string;
}

/**
 * GET auth.whoami from a chosen loopback address (127.0.0.x all reach the server on Linux), so
 * each test spends the budget of an address of its own.
 */
function whoami(baseUrl: string, from: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}/trpc/auth.whoami`, { localAddress: from, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined, body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const anonymous = () => ({ 'x-session-id': crypto.randomUUID() });

describe('rate limits in one API process (RATE_LIMIT_STORE=memory)', () => {
  const testDb = useTestDatabase();
  let api: RunningApi;
  // One token a minute: nothing refills while the test runs, however slow the machine.
  beforeAll(async () => {
    api = await startApi(testDb.orm, {
      RATE_LIMIT_PER_MINUTE: 1,
      RATE_LIMIT_BURST: 2,
      RATE_LIMIT_ADDRESS_PER_MINUTE: 1,
      RATE_LIMIT_ADDRESS_BURST: 3,
    });
  });
  afterAll(() => api?.close());

  it('answers a caller over its budget with 429, a Retry-After header and TOO_MANY_REQUESTS', async () => {
    const visitor = anonymous();
    expect((await whoami(api.url, '127.0.0.2', visitor)).status).toBe(200);
    expect((await whoami(api.url, '127.0.0.2', visitor)).status).toBe(200);

    const refused = await whoami(api.url, '127.0.0.2', visitor);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.retryAfter);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const body = JSON.parse(refused.body) as { error: { data: { code: string; details: unknown } } };
    expect(body.error.data).toMatchObject({ code: 'TOO_MANY_REQUESTS', details: { retryAfterSeconds: retryAfter } });
  });

  it('limits anonymous visitors by address too: a fresh X-Session-ID per request buys no fresh budget', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await whoami(api.url, '127.0.0.3', anonymous())).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    // Callers without any credentials share the same address budget.
    expect((await whoami(api.url, '127.0.0.3', {})).status).toBe(429);
  });

  it('spends neither another address’s budget nor a signed-in user’s on that exhaustion', async () => {
    for (let i = 0; i < 4; i++) await whoami(api.url, '127.0.0.4', anonymous());
    expect((await whoami(api.url, '127.0.0.4', anonymous())).status).toBe(429);

    expect((await whoami(api.url, '127.0.0.5', anonymous())).status).toBe(200);
    const { principal } = await createTestUser(testDb.orm.em.fork());
    const { key } = await callerAs(testDb.orm, principal).apiKeys.create({ name: 'agent', scopes: ['read'] });
    expect((await whoami(api.url, '127.0.0.4', { 'x-api-key': key })).status).toBe(200);
    expect((await whoami(api.url, '127.0.0.4', { 'x-api-key': key })).status).toBe(200);
  });
});

describe('rate limits shared by several API processes (RATE_LIMIT_STORE=postgres)', () => {
  const testDb = useTestDatabase();
  const apis: RunningApi[] = [];
  let pool: pg.Pool;
  beforeAll(async () => {
    pool = new pg.Pool({ ...pgClientConfig(testDb.db.connection), max: 2 });
    // Three requests a minute per key across all instances; the local buckets are roomy, so
    // any refusal below comes from the shared count.
    const settings = { RATE_LIMIT_PER_MINUTE: 3, RATE_LIMIT_BURST: 3 };
    for (let i = 0; i < 2; i++) {
      const rateLimiter = createPostgresRateLimiter({
        pool,
        logger: createLogger('test', 'silent'),
        perMinute: 3,
        burst: 3,
      });
      apis.push(await startApi(testDb.orm, settings, { rateLimiter }));
    }
  });
  afterAll(async () => {
    for (const api of apis) await api.close();
    await pool?.end();
  });

  it('gives N instances one budget, not N', async () => {
    const visitor = anonymous();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await whoami(apis[i % 2]!.url, '127.0.0.6', visitor)).status);
    // Each instance alone saw two requests, under its local budget of three; together, four.
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await whoami(apis[1]!.url, '127.0.0.6', visitor);
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    const { rows } = await pool.query<{ key: string; points: number }>(
      `select key, points from rate_limits where key like 'principal:anonymous:%'`,
    );
    expect(rows).toEqual([{ key: `principal:anonymous:${visitor['x-session-id']}`, points: expect.any(Number) }]);
  });

  it('shares the address budget too: fresh anonymous ids spread over instances are still counted', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await whoami(apis[i % 2]!.url, '127.0.0.7', anonymous())).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});
