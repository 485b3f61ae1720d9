import { describe, expect, it } from 'vitest';
import { ApiKeySchema, UserSchema } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { actorFor, createTestUser } from '../testing/index.ts';
import { authenticateApiKey, createApiKey, hashApiKey } from './api-keys.ts';

describe('authenticateApiKey', () => {
  const testDb = useTestDatabase();

  async function newKey(scopes: ('read' | 'write')[] = ['read', 'write']) {
    const em = testDb.orm.em.fork();
    const { userId, principal } = await createTestUser(em);
    const { key, apiKey } = await createApiKey(em, actorFor(principal), userId, { name: 'agent', scopes });
    return { key, id: apiKey.id, userId };
  }
  const setKey = (id: string, data: { revokedAt?: Date; expiresAt?: Date; lastUsedAt?: Date }) =>
    testDb.orm.em.fork().nativeUpdate(ApiKeySchema, { id }, data);

  it('stores only the SHA-256 of the key', async () => {
    const { key, id } = await newKey();
    const stored = await testDb.orm.em.fork().findOneOrFail(ApiKeySchema, id);
    expect(stored.keyHash).toBe(hashApiKey(key));
    expect(stored.keyPrefix).toBe(key.slice(0, 11));
  });

  it("proves the key's owner, with the owner's role and the key's scopes", async () => {
    const { key, id, userId } = await newKey(['read']);
    expect(await authenticateApiKey(testDb.orm.em.fork(), key)).toEqual({
      principal: { kind: 'apiKey', userId, role: 'user', apiKeyId: id, scopes: ['read'] },
      failure: null,
    });
  });

  it('records the use, at most once a minute', async () => {
    const { key, id } = await newKey();
    await authenticateApiKey(testDb.orm.em.fork(), key);
    const first = (await testDb.orm.em.fork().findOneOrFail(ApiKeySchema, id)).lastUsedAt;
    expect(first).toBeInstanceOf(Date);
    await authenticateApiKey(testDb.orm.em.fork(), key);
    expect((await testDb.orm.em.fork().findOneOrFail(ApiKeySchema, id)).lastUsedAt).toEqual(first);

    const earlier = new Date(Date.now() - 5 * 60_000);
    await setKey(id, { lastUsedAt: earlier });
    await authenticateApiKey(testDb.orm.em.fork(), key);
    expect((await testDb.orm.em.fork().findOneOrFail(ApiKeySchema, id)).lastUsedAt!.getTime()).toBeGreaterThan(
      earlier.getTime(),
    );
  });

  it.each([
    ['a malformed key', 'ts_short', /malformed API key/],
    ['an unknown key', `ts_${'x'.repeat(43)}`, /unknown API key/],
  ])('refuses %s', async (_, key, reason) => {
    const { principal, failure } = await authenticateApiKey(testDb.orm.em.fork(), key);
    expect(principal).toBeNull();
    expect(failure).toMatch(reason);
  });

  it('refuses a revoked key, an expired key and a deleted user’s key', async () => {
    const revoked = await newKey();
    await setKey(revoked.id, { revokedAt: new Date() });
    expect((await authenticateApiKey(testDb.orm.em.fork(), revoked.key)).failure).toBe('this API key has been revoked');

    const expired = await newKey();
    await setKey(expired.id, { expiresAt: new Date(Date.now() - 1_000) });
    expect((await authenticateApiKey(testDb.orm.em.fork(), expired.key)).failure).toBe('this API key has expired');

    const orphaned = await newKey();
    await testDb.orm.em.fork().nativeUpdate(UserSchema, { id: orphaned.userId }, { deletedAt: new Date() });
    expect((await authenticateApiKey(testDb.orm.em.fork(), orphaned.key)).failure).toBe(
      'the account this API key belongs to has been deleted',
    );
  });
});
