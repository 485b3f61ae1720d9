import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLogSchema, UserSchema } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { LOCAL_ISSUER } from '@threadstore/domain';
import { decodeJwt } from 'jose';
import { failureOf, startApi, type RunningApi } from '../../../test/http-api.ts';

const SECRET = 'local-accounts-secret-of-32-characters';
const PASSWORD = 'correct horse battery staple';

describe('local accounts, when enabled', () => {
  const testDb = useTestDatabase();
  let api: RunningApi;
  beforeAll(async () => {
    api = await startApi(testDb.orm, {
      AUTH_LOCAL_ACCOUNTS: true,
      AUTH_JWT_SECRET: SECRET,
      AUTH_JWT_AUDIENCE: 'threadstore-api',
      AUTH_LOCAL_TOKEN_TTL_SECONDS: 3_600,
    });
  });
  afterAll(() => api?.close());

  const auth = () => api.client().auth;
  const whoamiWith = (token: string) => api.client({ authorization: `Bearer ${token}` }).auth.whoami.query();

  it('signs up and in, each time with a token that works as a bearer for the same user', async () => {
    const signedUp = await auth().signUp.mutate({
      username: 'Ana',
      password: PASSWORD,
      email: 'ana@example.test',
      displayName: 'Ana Lima',
    });
    expect(signedUp.user).toEqual({
      id: expect.any(String),
      username: 'Ana',
      email: 'ana@example.test',
      displayName: 'Ana Lima',
      role: 'user',
    });
    const claims = decodeJwt(signedUp.token);
    expect(claims).toMatchObject({ iss: LOCAL_ISSUER, sub: signedUp.user.id, aud: 'threadstore-api' });
    expect(claims.exp! - claims.iat!).toBe(3_600);
    expect(Date.parse(signedUp.expiresAt)).toBe(claims.exp! * 1000);
    expect(await whoamiWith(signedUp.token)).toEqual({
      kind: 'user',
      userId: signedUp.user.id,
      role: 'user',
      username: 'Ana',
      email: 'ana@example.test',
      displayName: 'Ana Lima',
    });

    const signedIn = await auth().signIn.mutate({ username: 'ANA', password: PASSWORD });
    expect(signedIn.user).toEqual(signedUp.user);
    expect(await whoamiWith(signedIn.token)).toMatchObject({ kind: 'user', userId: signedUp.user.id });
  });

  it('stores a scrypt hash of the password, never the password', async () => {
    const { user } = await auth().signUp.mutate({ username: 'hashed', password: PASSWORD });
    const row = await testDb.orm.em.fork().findOneOrFail(UserSchema, user.id);
    expect(row).toMatchObject({ issuer: LOCAL_ISSUER, subject: user.id, username: 'hashed' });
    expect(row.passwordHash).toMatch(/^scrypt\$/);
    expect(row.passwordHash).not.toContain(PASSWORD);
  });

  it('refuses a username taken in another letter case with CONFLICT', async () => {
    await auth().signUp.mutate({ username: 'Bruno', password: PASSWORD });
    const failure = await failureOf(auth().signUp.mutate({ username: 'bRUNO', password: 'another password' }));
    expect(failure.data?.code).toBe('CONFLICT');
    expect(failure.message).toBe('this username is taken');
    expect(await testDb.orm.em.fork().count(UserSchema, { issuer: LOCAL_ISSUER, username: 'bRUNO' })).toBe(0);
  });

  it('answers a wrong password and an unknown username alike, with UNAUTHORIZED', async () => {
    await auth().signUp.mutate({ username: 'carla', password: PASSWORD });
    const wrongPassword = await failureOf(auth().signIn.mutate({ username: 'carla', password: 'not the password' }));
    const unknownUser = await failureOf(auth().signIn.mutate({ username: 'nobody-here', password: PASSWORD }));
    for (const failure of [wrongPassword, unknownUser]) {
      expect(failure.data?.code).toBe('UNAUTHORIZED');
      expect(failure.message).toBe('wrong username or password');
    }
  });

  it('refuses a deleted account at sign-in and for tokens it already holds', async () => {
    const { token, user } = await auth().signUp.mutate({ username: 'gone', password: PASSWORD });
    await testDb.orm.em.fork().nativeUpdate(UserSchema, { id: user.id }, { deletedAt: new Date() });
    expect((await failureOf(auth().signIn.mutate({ username: 'gone', password: PASSWORD }))).data?.code).toBe(
      'UNAUTHORIZED',
    );
    // This server has not seen the token yet, so no remembered user stands in the way.
    expect((await failureOf(whoamiWith(token))).message).toBe('this account has been deleted');
  });

  it('lets no input choose the role, and checks the password rules', async () => {
    const asAdmin = { username: 'sneaky', password: PASSWORD, role: 'admin' } as never;
    expect((await failureOf(auth().signUp.mutate(asAdmin))).data?.code).toBe('BAD_REQUEST');
    const short = await failureOf(auth().signUp.mutate({ username: 'shorty', password: 'short' }));
    expect(short.data?.code).toBe('BAD_REQUEST');
    expect(short.data?.zodError?.fieldErrors).toEqual({ password: [expect.stringMatching(/8/)] });
    expect(await testDb.orm.em.fork().count(UserSchema, { username: { $in: ['sneaky', 'shorty'] } })).toBe(0);
  });

  it('audits sign-up and sign-in as the account, with neither password nor token', async () => {
    const { user, token } = await auth().signUp.mutate({ username: 'dora', password: PASSWORD });
    await auth().signIn.mutate({ username: 'dora', password: PASSWORD });
    const rows = await testDb.orm.em
      .fork()
      .find(AuditLogSchema, { subjectType: 'user', subjectId: user.id }, { orderBy: { id: 'asc' } });
    expect(rows.map(({ actorType, actorId, action, details }) => ({ actorType, actorId, action, details }))).toEqual([
      { actorType: 'user', actorId: user.id, action: 'auth.signUp', details: { username: 'dora' } },
      { actorType: 'user', actorId: user.id, action: 'auth.signIn', details: {} },
    ]);
    const everything = JSON.stringify([rows, api.logs.lines]);
    expect(everything).not.toContain(PASSWORD);
    expect(everything).not.toContain(token);
  });
});

describe('local accounts, when disabled', () => {
  const testDb = useTestDatabase();
  let api: RunningApi;
  beforeAll(async () => {
    api = await startApi(testDb.orm, { AUTH_JWT_SECRET: SECRET, AUTH_JWT_ISSUER: 'https://issuer.test' });
  });
  afterAll(() => api?.close());

  it('refuses sign-up and sign-in with FORBIDDEN, saying so, and creates nobody', async () => {
    for (const call of [
      () => api.client().auth.signUp.mutate({ username: 'eve', password: PASSWORD }),
      () => api.client().auth.signIn.mutate({ username: 'eve', password: PASSWORD }),
    ]) {
      const failure = await failureOf(call());
      expect(failure.data?.code).toBe('FORBIDDEN');
      expect(failure.message).toBe('local accounts are disabled on this server (AUTH_LOCAL_ACCOUNTS)');
    }
    expect(await testDb.orm.em.fork().count(UserSchema)).toBe(0);
  });
});
