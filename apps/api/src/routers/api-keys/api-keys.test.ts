import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeySchema, AuditLogSchema } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { hashApiKey } from '@threadstore/domain';
import { anonymousPrincipal, createTestUser } from '@threadstore/domain/testing';
import { failureOf, startApi, type RunningApi } from '../../../test/http-api.ts';
import { callerAs } from '../../testing/caller.ts';

describe('API keys', () => {
  const testDb = useTestDatabase();
  let api: RunningApi;
  beforeAll(async () => {
    api = await startApi(testDb.orm);
  });
  afterAll(() => api?.close());

  async function signedInUser() {
    const { userId, principal } = await createTestUser(testDb.orm.em.fork());
    return { userId, caller: callerAs(testDb.orm, principal) };
  }
  const withKey = (key: string) => api.client({ 'x-api-key': key });

  it('shows a new key once: the listing has its metadata, never the key or its hash', async () => {
    const { caller } = await signedInUser();
    const { key, apiKey } = await caller.apiKeys.create({
      name: 'agent',
      scopes: ['read', 'write'],
      expiresInDays: 30,
    });

    expect(key).toMatch(/^ts_[\w-]{43}$/);
    expect(apiKey).toEqual({
      id: expect.any(String),
      name: 'agent',
      keyPrefix: key.slice(0, 11),
      scopes: ['read', 'write'],
      createdAt: expect.any(String),
      lastUsedAt: null,
      expiresAt: expect.any(String),
      revokedAt: null,
    });
    const validDays = (Date.parse(apiKey.expiresAt!) - Date.parse(apiKey.createdAt)) / 86_400_000;
    expect(validDays).toBeCloseTo(30, 2);

    const listing = await caller.apiKeys.list();
    expect(listing).toEqual({ items: [apiKey], nextCursor: null });
    const listed = JSON.stringify(listing);
    expect(listed).not.toContain(key.slice(11));
    expect(listed).not.toContain(hashApiKey(key));
  });

  it('authenticates over HTTP as its owner, with its scopes, and keeps itself out of the logs', async () => {
    const { userId, caller } = await signedInUser();
    const { key, apiKey } = await caller.apiKeys.create({ name: 'reader', scopes: ['read'] });
    expect(await withKey(key).auth.whoami.query()).toMatchObject({
      kind: 'apiKey',
      userId,
      apiKeyId: apiKey.id,
      scopes: ['read'],
    });
    expect(JSON.stringify(api.logs.lines)).not.toContain(key);
  });

  it('lets a read-only key query, and refuses its mutations with FORBIDDEN naming the scope', async () => {
    const { caller } = await signedInUser();
    const { key } = await caller.apiKeys.create({ name: 'reader', scopes: ['read'] });
    await expect(withKey(key).auth.whoami.query()).resolves.toMatchObject({ kind: 'apiKey' });

    const failure = await failureOf(withKey(key).auth.claimAnonymous.mutate({ anonymousId: crypto.randomUUID() }));
    expect(failure.data?.code).toBe('FORBIDDEN');
    expect(failure.message).toBe("this API key lacks the 'write' scope");
    expect(failure.data?.details).toEqual({ scope: 'write' });
  });

  it('refuses to let an API key manage keys, whatever its scopes', async () => {
    const { caller } = await signedInUser();
    const { key } = await caller.apiKeys.create({ name: 'agent', scopes: ['read', 'write'] });
    for (const call of [
      () => withKey(key).apiKeys.create.mutate({ name: 'minted', scopes: ['write'] }),
      () => withKey(key).apiKeys.list.query(),
    ]) {
      const failure = await failureOf(call());
      expect(failure.data?.code).toBe('FORBIDDEN');
      expect(failure.message).toMatch(/API keys cannot do this/);
    }
    expect(await caller.apiKeys.list()).toMatchObject({ items: [{ name: 'agent' }] });
  });

  it('refuses a revoked key with UNAUTHORIZED', async () => {
    const { caller } = await signedInUser();
    const { key, apiKey } = await caller.apiKeys.create({ name: 'leaked', scopes: ['read'] });
    await caller.apiKeys.revoke({ id: apiKey.id });
    const failure = await failureOf(withKey(key).auth.whoami.query());
    expect(failure.data?.code).toBe('UNAUTHORIZED');
    expect(failure.message).toBe('this API key has been revoked');
  });

  it('refuses an expired key with UNAUTHORIZED', async () => {
    const { caller } = await signedInUser();
    const { key, apiKey } = await caller.apiKeys.create({ name: 'short-lived', scopes: ['read'], expiresInDays: 1 });
    await testDb.orm.em.fork().nativeUpdate(ApiKeySchema, { id: apiKey.id }, { expiresAt: new Date(Date.now() - 1) });
    const failure = await failureOf(withKey(key).auth.whoami.query());
    expect(failure.data?.code).toBe('UNAUTHORIZED');
    expect(failure.message).toBe('this API key has expired');
  });

  it("answers NOT_FOUND for another user's key id, and that key keeps working", async () => {
    const owner = await signedInUser();
    const { key, apiKey } = await owner.caller.apiKeys.create({ name: 'owned', scopes: ['read'] });
    const intruder = await signedInUser();
    await expect(intruder.caller.apiKeys.revoke({ id: apiKey.id })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'API key not found',
    });
    await expect(intruder.caller.apiKeys.revoke({ id: crypto.randomUUID() })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'API key not found',
    });
    expect(await intruder.caller.apiKeys.list()).toEqual({ items: [], nextCursor: null });
    await expect(withKey(key).auth.whoami.query()).resolves.toMatchObject({ apiKeyId: apiKey.id });
  });

  it('revokes harmlessly twice: the first revocation time stands', async () => {
    const { caller } = await signedInUser();
    const { apiKey } = await caller.apiKeys.create({ name: 'twice', scopes: ['read'] });
    const [first, second] = await Promise.all([
      caller.apiKeys.revoke({ id: apiKey.id }),
      caller.apiKeys.revoke({ id: apiKey.id }),
    ]);
    const third = await caller.apiKeys.revoke({ id: apiKey.id });
    expect(first.revokedAt).not.toBeNull();
    expect([second.revokedAt, third.revokedAt]).toEqual([first.revokedAt, first.revokedAt]);
  });

  it('pages through the caller’s keys, newest first', async () => {
    const { caller } = await signedInUser();
    const created = [];
    for (const name of ['one', 'two', 'three'])
      created.push((await caller.apiKeys.create({ name, scopes: ['read'] })).apiKey);
    const first = await caller.apiKeys.list({ limit: 2 });
    expect(first.items.map((key) => key.name)).toEqual(['three', 'two']);
    const second = await caller.apiKeys.list({ limit: 2, cursor: first.nextCursor! });
    expect(second).toEqual({ items: [created[0]], nextCursor: null });
  });

  it('audits creation and revocation in the same transaction, without the key or its hash', async () => {
    const { userId, caller } = await signedInUser();
    const { key, apiKey } = await caller.apiKeys.create({ name: 'audited', scopes: ['write'] });
    await caller.apiKeys.revoke({ id: apiKey.id });
    await caller.apiKeys.revoke({ id: apiKey.id });
    const rows = await testDb.orm.em
      .fork()
      .find(AuditLogSchema, { subjectType: 'api_key', subjectId: apiKey.id }, { orderBy: { id: 'asc' } });
    expect(rows.map(({ actorType, actorId, action, details }) => ({ actorType, actorId, action, details }))).toEqual([
      {
        actorType: 'user',
        actorId: userId,
        action: 'apiKeys.create',
        details: { name: 'audited', scopes: ['write'], expiresAt: null },
      },
      { actorType: 'user', actorId: userId, action: 'apiKeys.revoke', details: { alreadyRevoked: false } },
      { actorType: 'user', actorId: userId, action: 'apiKeys.revoke', details: { alreadyRevoked: true } },
    ]);
    expect(JSON.stringify(rows)).not.toContain(key.slice(3));
  });

  it('takes no owner from the input, and refuses anonymous visitors', async () => {
    const { caller } = await signedInUser();
    const victim = await signedInUser();
    const smuggled = { name: 'mine', scopes: ['read'], userId: victim.userId } as never;
    await expect(caller.apiKeys.create(smuggled)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(callerAs(testDb.orm, anonymousPrincipal()).apiKeys.list()).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    await expect(callerAs(testDb.orm, null).apiKeys.create({ name: 'x', scopes: ['read'] })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
  });

  it('refuses a scope list that is empty, unknown or repeated', async () => {
    const { caller } = await signedInUser();
    for (const scopes of [[], ['admin'], ['read', 'read']]) {
      await expect(caller.apiKeys.create({ name: 'bad', scopes } as never)).rejects.toMatchObject({
        code: 'BAD_REQUEST',
      });
    }
    expect(await caller.apiKeys.list()).toEqual({ items: [], nextCursor: null });
  });
});
