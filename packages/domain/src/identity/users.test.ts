import { describe, expect, it } from 'vitest';
import { UserSchema } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { LOCAL_ISSUER, resolveTokenUser, type TokenIdentity } from './users.ts';

const ISSUER = 'https://issuer.test';

function identity(subject: string, overrides: Partial<TokenIdentity> = {}): TokenIdentity {
  return { issuer: ISSUER, subject, email: `${subject}@example.test`, displayName: subject, ...overrides };
}

describe('resolveTokenUser', () => {
  const testDb = useTestDatabase();
  const rowOf = (subject: string) => testDb.orm.em.fork().findOneOrFail(UserSchema, { subject });

  it('creates one row for concurrent first sightings of an identity', async () => {
    const users = await Promise.all(
      Array.from({ length: 10 }, () => resolveTokenUser(testDb.orm.em.fork(), identity('concurrent'))),
    );
    const rows = await testDb.orm.em.fork().find(UserSchema, { subject: 'concurrent' });
    expect(rows).toHaveLength(1);
    expect(users.map((user) => user?.userId)).toEqual(Array(10).fill(rows[0]!.id));
  });

  it('writes nothing when the claims are unchanged and lastSeenAt is recent', async () => {
    await resolveTokenUser(testDb.orm.em.fork(), identity('steady'));
    const before = await rowOf('steady');
    await resolveTokenUser(testDb.orm.em.fork(), identity('steady'));
    const after = await rowOf('steady');
    expect(after.updatedAt).toEqual(before.updatedAt);
    expect(after.lastSeenAt).toEqual(before.lastSeenAt);
  });

  it('refreshes lastSeenAt once it is older than its precision', async () => {
    await resolveTokenUser(testDb.orm.em.fork(), identity('returning'));
    const longAgo = new Date(Date.now() - 60 * 60_000);
    await testDb.orm.em.fork().nativeUpdate(UserSchema, { subject: 'returning' }, { lastSeenAt: longAgo });
    const user = await resolveTokenUser(testDb.orm.em.fork(), identity('returning'));
    expect(user!.lastSeenAt!.getTime()).toBeGreaterThan(longAgo.getTime() + 30 * 60_000);
  });

  it('takes a new email or name from the claims, and keeps the stored ones when a claim is missing', async () => {
    await resolveTokenUser(testDb.orm.em.fork(), identity('renamed'));
    await resolveTokenUser(testDb.orm.em.fork(), identity('renamed', { displayName: 'New Name' }));
    expect(await rowOf('renamed')).toMatchObject({ email: 'renamed@example.test', displayName: 'New Name' });
    await resolveTokenUser(testDb.orm.em.fork(), identity('renamed', { email: null, displayName: null }));
    expect(await rowOf('renamed')).toMatchObject({ email: 'renamed@example.test', displayName: 'New Name' });
  });

  it('reports the role and deletion stored in the row', async () => {
    await resolveTokenUser(testDb.orm.em.fork(), identity('admin'));
    await testDb.orm.em.fork().nativeUpdate(UserSchema, { subject: 'admin' }, { role: 'admin', deletedAt: new Date() });
    expect(await resolveTokenUser(testDb.orm.em.fork(), identity('admin'))).toMatchObject({
      role: 'admin',
      deleted: true,
    });
  });

  it('never creates a local account from a token', async () => {
    const subject = crypto.randomUUID();
    expect(await resolveTokenUser(testDb.orm.em.fork(), identity(subject, { issuer: LOCAL_ISSUER }))).toBeNull();
    expect(await testDb.orm.em.fork().count(UserSchema, { subject })).toBe(0);
  });
});
