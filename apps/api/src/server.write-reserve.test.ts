import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import { createTestUser } from '@threadstore/domain/testing';
import { startApi, type RunningApi } from '../test/http-api.ts';
import { callerAs } from './testing/caller.ts';
import type { ApiServerConfig } from './server.ts';

// A write holds its pooled connection until its commit is flushed; one slow WAL flush used to
// leave all ten connections to writes waiting on it, and reads queued behind them
// (bench/results/capacity-*: pool waiters in the hundreds while PostgreSQL waited on IO:WALSync).
// Here the writes are held by a lock instead of a slow disk: every sessions.create writes an
// audit row, and the test holds audit_log locked.
describe('mutations leave DATABASE_POOL_READ_RESERVE connections to reads', () => {
  const testDb = useTestDatabase();
  let api: RunningApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  async function signedInClient(overrides: Partial<ApiServerConfig>) {
    api = await startApi(testDb.orm, { METRICS_ENABLED: true, ...overrides });
    const { principal } = await createTestUser(testDb.orm.em.fork());
    const { key } = await callerAs(testDb.orm, principal).apiKeys.create({ name: 'agent', scopes: ['read', 'write'] });
    const client = api.client({ 'x-api-key': key });
    const session = await client.sessions.create.mutate({ title: 'mine' });
    await client.messages.append.mutate({ sessionId: session.id, role: 'user', content: 'still readable' });
    return { client, session };
  }

  /** Runs `during` while audit_log is locked, so every write that reaches its audit row waits. */
  async function withAuditLocked<T>(during: () => Promise<T>): Promise<T> {
    const locker = new pg.Client({ connectionString: testDb.db.url });
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query('lock table audit_log in access exclusive mode');
      return await during();
    } finally {
      await locker.query('rollback').catch(() => undefined);
      await locker.end();
    }
  }

  const outcome = (call: Promise<unknown>) =>
    call.then(
      () => 'created',
      (error: { data?: { code?: string } }) => error.data?.code ?? 'failed',
    );

  async function metric(name: string): Promise<number> {
    const text = await (await fetch(`${api!.url}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1]);
  }
  const waitingWrites = () => metric('threadstore_api_writes_waiting');

  it('answers a read while 20 writes are stuck, and serves every stuck write once they can go', async () => {
    const { client, session } = await signedInClient({ DATABASE_POOL_READ_RESERVE: 3 });
    const stuck: Promise<string>[] = [];
    await withAuditLocked(async () => {
      stuck.push(...Array.from({ length: 20 }, () => outcome(client.sessions.create.mutate({ title: 'stuck' }))));
      // The pool holds 10: 7 writes run (and wait on the lock), 13 wait for a slot, holding nothing.
      await expect.poll(waitingWrites, { timeout: 10_000 }).toBe(13);
      const started = performance.now();
      const history = await client.messages.history.query({ sessionId: session.id });
      expect(history.items.map((m) => m.content)).toEqual(['still readable']);
      expect(performance.now() - started).toBeLessThan(5_000);
    });
    expect(await Promise.all(stuck)).toEqual(Array.from({ length: 20 }, () => 'created'));
    expect(await waitingWrites()).toBe(0);
  });

  it('without a reserve, the same read waits behind the stuck writes', async () => {
    const { client, session } = await signedInClient({ DATABASE_POOL_READ_RESERVE: 0 });
    const stuck: Promise<string>[] = [];
    let read: Promise<string> | undefined;
    await withAuditLocked(async () => {
      stuck.push(...Array.from({ length: 20 }, () => outcome(client.sessions.create.mutate({ title: 'stuck' }))));
      // All 10 connections go to writes waiting on the lock, and the calls after them wait for a
      // connection (to check their API key, before they even reach a write slot).
      await expect.poll(() => metric('threadstore_db_pool_waiting_requests'), { timeout: 10_000 }).toBeGreaterThan(0);
      read = client.messages.history.query({ sessionId: session.id }).then(
        () => 'answered',
        () => 'failed',
      );
      const early = await Promise.race([read, sleep(1_500).then(() => 'still waiting')]);
      expect(early).toBe('still waiting');
    });
    expect(await read).toBe('answered');
    expect(await Promise.all(stuck)).toEqual(Array.from({ length: 20 }, () => 'created'));
  });

  it('refuses writes beyond LIMIT_WRITE_QUEUE with SERVICE_UNAVAILABLE, writing nothing for them', async () => {
    // 10 connections, 8 for reads: 2 writes run, 2 wait, the rest are refused.
    const { client } = await signedInClient({ DATABASE_POOL_READ_RESERVE: 8, LIMIT_WRITE_QUEUE: 2 });
    const settled: string[] = [];
    const calls: Promise<string>[] = [];
    await withAuditLocked(async () => {
      for (let i = 0; i < 6; i++) {
        calls.push(outcome(client.sessions.create.mutate({ title: 'queued' })).then((o) => (settled.push(o), o)));
      }
      await expect.poll(waitingWrites, { timeout: 10_000 }).toBe(2);
      // Refused at once, while the four others still wait (two on the lock, two for a slot).
      await expect.poll(() => settled, { timeout: 10_000 }).toEqual(['SERVICE_UNAVAILABLE', 'SERVICE_UNAVAILABLE']);
      // The refusal tells a client when to come back.
      const response = await fetch(`${api!.url}/trpc/sessions.create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-session-id': randomUUID() },
        body: JSON.stringify({ title: 'one more' }),
      });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('1');
    });
    const outcomes = await Promise.all(calls);
    expect(outcomes.filter((o) => o === 'created')).toHaveLength(4);
    expect(outcomes.filter((o) => o === 'SERVICE_UNAVAILABLE')).toHaveLength(2);
    const titles = (await client.sessions.list.query({})).items.map((s) => s.title);
    expect(titles.filter((title) => title === 'queued')).toHaveLength(4);
    expect(titles).not.toContain('one more');
  });
});
