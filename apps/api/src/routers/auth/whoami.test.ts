import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import { anonymousPrincipal, createTestUser } from '@threadstore/domain/testing';
import { callerAs } from '../../testing/caller.ts';

describe('auth.whoami', () => {
  const testDb = useTestDatabase();

  it('describes a signed-in user with their account details', async () => {
    const { userId, principal } = await createTestUser(testDb.orm.em.fork(), { role: 'admin', name: 'grace' });
    expect(await callerAs(testDb.orm, principal).auth.whoami()).toEqual({
      kind: 'user',
      userId,
      role: 'admin',
      username: null,
      email: 'grace@example.test',
      displayName: 'grace',
    });
  });

  it('describes an API key with its owner and scopes', async () => {
    const { userId } = await createTestUser(testDb.orm.em.fork(), { name: 'owner' });
    const apiKeyId = crypto.randomUUID();
    const principal = { kind: 'apiKey', userId, role: 'user', apiKeyId, scopes: ['read'] } as const;
    expect(await callerAs(testDb.orm, principal).auth.whoami()).toEqual({
      kind: 'apiKey',
      userId,
      role: 'user',
      username: null,
      email: 'owner@example.test',
      displayName: 'owner',
      apiKeyId,
      scopes: ['read'],
    });
  });

  it('describes an anonymous visitor by their id alone', async () => {
    const principal = anonymousPrincipal();
    expect(await callerAs(testDb.orm, principal).auth.whoami()).toEqual({
      kind: 'anonymous',
      anonymousId: principal.anonymousId,
    });
  });

  it('refuses a caller without credentials', async () => {
    await expect(callerAs(testDb.orm, null).auth.whoami()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });
});
