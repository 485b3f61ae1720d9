import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import { createLogger } from '@threadstore/runtime';
import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import type { AppRouter } from '../../index.ts';
import { createApiServer, type ApiServer } from '../../server.ts';
import { testServerConfig } from '../../testing/server-config.ts';

const testDb = useTestDatabase();

describe('sessions over HTTP with the typed client', () => {
  let api: ApiServer;
  let url: string;
  beforeAll(async () => {
    api = createApiServer({ orm: testDb.orm, logger: createLogger('test', 'silent'), config: testServerConfig() });
    url = `http://127.0.0.1:${(await api.listen()).port}/trpc`;
  });
  afterAll(() => api?.close());

  const clientAs = (anonymousId: string) =>
    createTRPCClient<AppRouter>({ links: [httpBatchLink({ url, headers: { 'x-session-id': anonymousId } })] });

  it('runs a visitor’s session from getOrCreate to completion, with JSON-safe fields', async () => {
    const client = clientAs(randomUUID());
    const { session, created } = await client.sessions.getOrCreate.mutate({
      clientKey: 'tab-1',
      title: 'From the browser',
      context: { locale: 'pt-PT' },
    });
    expect(created).toBe(true);
    expect((await client.sessions.getOrCreate.mutate({ clientKey: 'tab-1' })).session.id).toBe(session.id);
    await client.sessions.start.mutate({ id: session.id });
    await client.sessions.progress.mutate({ id: session.id, addCost: '0.0042', round: 1 });
    const done = await client.sessions.complete.mutate({ id: session.id, synthesis: 'ok' });
    expect(done).toMatchObject({ status: 'completed', totalCost: '0.0042', round: 1, owner: 'anonymous' });
    expect(typeof done.createdAt).toBe('string');
    const page = await client.sessions.list.query({ status: 'completed' });
    expect(page.items.map((s) => s.id)).toEqual([session.id]);
  });

  it('answers an illegal transition with 409 and both states in error.data.details', async () => {
    const client = clientAs(randomUUID());
    const session = await client.sessions.create.mutate({});
    const error = await client.sessions.complete.mutate({ id: session.id }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCClientError);
    expect(error).toMatchObject({
      message: 'cannot complete a session that is created',
      data: { code: 'CONFLICT', httpStatus: 409, details: { from: 'created', to: 'completed' } },
    });
  });

  it('answers another visitor’s session id with 404', async () => {
    const owner = clientAs(randomUUID());
    const session = await owner.sessions.create.mutate({ title: 'mine' });
    const error = await clientAs(randomUUID())
      .sessions.get.query({ id: session.id })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ data: { code: 'NOT_FOUND', httpStatus: 404 } });
  });
});
