import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import { createTestUser } from '@threadstore/domain/testing';
import { startApi, type RunningApi } from '../test/http-api.ts';
import { callerAs } from './testing/caller.ts';

// Found by black-box testing: a burst of unauthenticated probes (each holding one pooled
// connection while waiting for a second, under the migration advisory lock) emptied the pool,
// so probes answered 503 and other users' writes waited 10 s or failed with HTTP 500.
describe('a burst of unauthenticated probes', () => {
  const testDb = useTestDatabase();
  let api: RunningApi;
  beforeAll(async () => {
    api = await startApi(testDb.orm, { LIMIT_MAX_BATCH_CALLS: 50, LIMIT_ANONYMOUS_CONCURRENCY: 3 });
  });
  afterAll(() => api?.close());

  async function apiKeyClient() {
    const { principal } = await createTestUser(testDb.orm.em.fork());
    const { key } = await callerAs(testDb.orm, principal).apiKeys.create({ name: 'agent', scopes: ['read', 'write'] });
    return api.client({ 'x-api-key': key });
  }

  it('neither fails the probes nor holds back a signed-in user’s writes', async () => {
    const client = await apiKeyClient();
    const session = await client.sessions.create.mutate({ title: 'during the storm' });

    const readyz = Array.from({ length: 60 }, () => fetch(`${api.url}/readyz`));
    const checks = Array.from({ length: 20 }, () => fetch(`${api.url}/trpc/health.check`));
    const batch = fetch(`${api.url}/trpc/${Array.from({ length: 40 }, () => 'health.check').join(',')}?batch=1`);

    // The user's writes go on meanwhile; each must be served promptly, not after the storm.
    const writeTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await client.messages.append.mutate({ sessionId: session.id, role: 'user', content: `message ${i}` });
      writeTimes.push(performance.now() - started);
    }

    const statuses = await Promise.all([...readyz, ...checks, batch].map(async (r) => (await r).status));
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    // Generous bound for a busy shared machine; before the fix these waited for the 10 s pool
    // timeout (or failed with it).
    expect(Math.max(...writeTimes)).toBeLessThan(5_000);

    // And nothing lingers after the burst: the next calls are served at once.
    expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
    const history = await client.messages.history.query({ sessionId: session.id });
    expect(history.items.map((m) => m.content)).toEqual([0, 1, 2, 3, 4].map((i) => `message ${i}`));
  });

  it('keeps the pool for signed-in callers while a burst of anonymous calls is stuck', async () => {
    const client = await apiKeyClient();
    const session = await client.sessions.create.mutate({ title: 'mine' });
    await client.messages.append.mutate({ sessionId: session.id, role: 'user', content: 'still readable' });
    // Every sessions.create writes an audit row; with the audit table locked, 20 anonymous
    // creates cannot finish. Without a bound they would hold every pooled connection (10) until
    // the lock goes, and the signed-in user's read would wait for it.
    const locker = new pg.Client({ connectionString: testDb.db.url });
    await locker.connect();
    await locker.query('begin');
    await locker.query('lock table audit_log in access exclusive mode');
    const stuck: Promise<string>[] = [];
    try {
      stuck.push(
        ...Array.from({ length: 20 }, () =>
          api
            .client({ 'x-session-id': randomUUID() })
            .sessions.create.mutate({ title: 'stuck' })
            .then(
              () => 'created',
              (error: { data?: { code?: string } }) => error.data?.code ?? 'failed',
            ),
        ),
      );
      await sleep(500);
      const started = performance.now();
      const history = await client.messages.history.query({ sessionId: session.id });
      expect(history.items.map((m) => m.content)).toEqual(['still readable']);
      expect(performance.now() - started).toBeLessThan(5_000);
    } finally {
      await locker.query('rollback');
      await locker.end();
    }
    // Once the lock goes, every waiting anonymous call is served: none was dropped.
    expect(await Promise.all(stuck)).toEqual(Array.from({ length: 20 }, () => 'created'));
  });

  it('refuses a batch of more calls than LIMIT_MAX_BATCH_CALLS with a typed 400', async () => {
    const response = await fetch(
      `${api.url}/trpc/${Array.from({ length: 51 }, () => 'health.check').join(',')}?batch=1`,
    );
    expect(response.status).toBe(400);
    const body = (await response.json()) as unknown;
    expect(JSON.stringify(body)).toContain('BAD_REQUEST');
  });
});
