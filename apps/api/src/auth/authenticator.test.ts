import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserSchema, type MikroORM } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { LOCAL_ISSUER } from '@threadstore/domain';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWTPayload } from 'jose';
import { failureOf, startApi, type RunningApi } from '../../test/http-api.ts';
import { testServerConfig } from '../testing/server-config.ts';
import { createAuthenticator } from './authenticator.ts';

const SECRET = 'test-secret-with-at-least-32-characters!';
const ISSUER = 'https://issuer.test';
const AUDIENCE = 'threadstore-api';

function hs256(
  claims: JWTPayload,
  { secret = SECRET, expiresIn = '10m' }: { secret?: string; expiresIn?: string } = {},
) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}

function validClaims(subject: string): JWTPayload {
  return { iss: ISSUER, aud: AUDIENCE, sub: subject, email: `${subject}@example.test`, name: `Name ${subject}` };
}

async function usersWithSubject(orm: MikroORM, subject: string) {
  return orm.em.fork().find(UserSchema, { subject });
}

describe('bearer tokens signed with the shared secret', () => {
  const testDb = useTestDatabase();
  let api: RunningApi;
  beforeAll(async () => {
    api = await startApi(testDb.orm, {
      AUTH_JWT_SECRET: SECRET,
      AUTH_JWT_ISSUER: ISSUER,
      AUTH_JWT_AUDIENCE: AUDIENCE,
    });
  });
  afterAll(() => api?.close());

  const whoamiWith = (token: string) => api.client({ authorization: `Bearer ${token}` }).auth.whoami.query();

  it('creates the user on first sight, once, even when the first requests arrive together', async () => {
    const token = await hs256(validClaims('first-sight'));
    const answers = await Promise.all(Array.from({ length: 8 }, () => whoamiWith(token)));

    const rows = await usersWithSubject(testDb.orm, 'first-sight');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      issuer: ISSUER,
      email: 'first-sight@example.test',
      displayName: 'Name first-sight',
      role: 'user',
    });
    expect(new Set(answers.map((answer) => (answer.kind === 'user' ? answer.userId : null)))).toEqual(
      new Set([rows[0]!.id]),
    );
    // A later request with a new token for the same subject is the same user.
    const later = await whoamiWith(await hs256(validClaims('first-sight')));
    expect(later).toMatchObject({ kind: 'user', userId: rows[0]!.id });
  });

  it('takes the role from the database, never from the token', async () => {
    const answer = await whoamiWith(await hs256({ ...validClaims('would-be-admin'), role: 'admin' }));
    expect(answer).toMatchObject({ kind: 'user', role: 'user' });
  });

  it('follows a changed email claim, and keeps the stored one when the claim is absent', async () => {
    await whoamiWith(await hs256(validClaims('mover')));
    await whoamiWith(await hs256({ ...validClaims('mover'), email: 'moved@example.test' }));
    expect((await usersWithSubject(testDb.orm, 'mover'))[0]?.email).toBe('moved@example.test');

    const { email: _omitted, ...withoutEmail } = validClaims('mover');
    await whoamiWith(await hs256(withoutEmail));
    expect((await usersWithSubject(testDb.orm, 'mover'))[0]?.email).toBe('moved@example.test');
  });

  const otherKey = 'another-secret-that-is-32-characters-long';
  const refusals: [string, () => Promise<string>, RegExp][] = [
    ['a bad signature', () => hs256(validClaims('bad-signature'), { secret: otherKey }), /signature is invalid/],
    ['an expired token', () => hs256(validClaims('expired'), { expiresIn: '-2m' }), /has expired/],
    [
      'a wrong issuer',
      () => hs256({ ...validClaims('wrong-issuer'), iss: 'https://evil.test' }),
      /issuer is not accepted/,
    ],
    ['a wrong audience', () => hs256({ ...validClaims('wrong-audience'), aud: 'another-api' }), /audience/],
    [
      'alg: none',
      async () => new UnsecuredJWT(validClaims('unsigned')).setExpirationTime('10m').encode(),
      /signed with none are not accepted/,
    ],
    ['a malformed token', async () => 'not-a-jwt', /malformed bearer token/],
    ['a token with three garbage segments', async () => 'eyJhbGciOiJIUzI1NiJ9.bm9wZQ.c2ln', /malformed|signature/],
    [
      'a token without an expiry',
      () =>
        new SignJWT(validClaims('no-expiry'))
          .setProtectedHeader({ alg: 'HS256' })
          .sign(new TextEncoder().encode(SECRET)),
      /"exp" is missing/,
    ],
  ];

  it.each(refusals)('refuses %s with UNAUTHORIZED naming the reason, creating no user', async (_, token, reason) => {
    const usersBefore = await testDb.orm.em.fork().count(UserSchema);
    const failure = await failureOf(whoamiWith(await token()));
    expect(failure.data?.code).toBe('UNAUTHORIZED');
    expect(failure.data?.httpStatus).toBe(401);
    expect(failure.message).toMatch(reason);
    expect(await testDb.orm.em.fork().count(UserSchema)).toBe(usersBefore);
  });

  it('never lets a refused token fall back to the anonymous id sent with it', async () => {
    const failure = await failureOf(
      api.client({ authorization: 'Bearer not-a-jwt', 'x-session-id': crypto.randomUUID() }).auth.whoami.query(),
    );
    expect(failure.data?.code).toBe('UNAUTHORIZED');
  });

  it('refuses an Authorization header that is not a bearer token', async () => {
    const failure = await failureOf(api.client({ authorization: 'Basic dXNlcjpwYXNz' }).auth.whoami.query());
    expect(failure.message).toBe('the Authorization header must be "Bearer <token>"');
  });

  it('refuses a request carrying both a bearer token and an API key', async () => {
    const token = await hs256(validClaims('both'));
    const failure = await failureOf(
      api.client({ authorization: `Bearer ${token}`, 'x-api-key': `ts_${'a'.repeat(43)}` }).auth.whoami.query(),
    );
    expect(failure.message).toMatch(/not both/);
  });

  it('refuses a local-account token on a server whose local accounts are off', async () => {
    const failure = await failureOf(
      whoamiWith(await hs256({ ...validClaims(crypto.randomUUID()), iss: LOCAL_ISSUER })),
    );
    expect(failure.message).toMatch(/issuer is not accepted/);
  });

  it('never writes the token into the logs', async () => {
    const token = await hs256(validClaims('quiet'), { secret: otherKey });
    await failureOf(whoamiWith(token));
    expect(JSON.stringify(api.logs.lines)).not.toContain(token.split('.')[2]);
  });
});

describe('bearer tokens on a server configured for neither secret nor JWKS', () => {
  const testDb = useTestDatabase();
  let api: RunningApi;
  beforeAll(async () => {
    api = await startApi(testDb.orm);
  });
  afterAll(() => api?.close());

  it('are refused, saying bearer tokens are not accepted here', async () => {
    const failure = await failureOf(
      api.client({ authorization: `Bearer ${await hs256(validClaims('nowhere'))}` }).auth.whoami.query(),
    );
    expect(failure.data?.code).toBe('UNAUTHORIZED');
    expect(failure.message).toMatch(/neither AUTH_JWT_SECRET nor AUTH_JWKS_URL/);
  });
});

describe("bearer tokens signed with an OIDC provider's keys (JWKS)", () => {
  const testDb = useTestDatabase();
  const PROVIDER = 'https://idp.test';
  let provider: { privateKey: CryptoKey; kid: string };
  let jwksServer: Server;
  let api: RunningApi;

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    provider = { privateKey, kid: 'provider-key-1' };
    const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: provider.kid, alg: 'ES256', use: 'sig' }] };
    jwksServer = createServer((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(jwks));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const { port } = jwksServer.address() as AddressInfo;
    api = await startApi(testDb.orm, {
      AUTH_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`,
      AUTH_JWT_ISSUER: PROVIDER,
      AUTH_JWT_SECRET: SECRET,
    });
  });
  afterAll(async () => {
    await api?.close();
    jwksServer?.closeAllConnections();
    await new Promise((resolve) => jwksServer?.close(resolve));
  });

  const es256 = (privateKey: CryptoKey, kid: string, subject: string) =>
    new SignJWT({ iss: PROVIDER, sub: subject, email: `${subject}@idp.test` })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);

  const whoamiWith = (token: string) => api.client({ authorization: `Bearer ${token}` }).auth.whoami.query();

  it('accepts a token signed with a published key', async () => {
    const answer = await whoamiWith(await es256(provider.privateKey, provider.kid, 'oidc-user'));
    const [row] = await usersWithSubject(testDb.orm, 'oidc-user');
    expect(row).toMatchObject({ issuer: PROVIDER, email: 'oidc-user@idp.test' });
    expect(answer).toMatchObject({ kind: 'user', userId: row!.id, email: 'oidc-user@idp.test' });
  });

  it('refuses a token signed with another key, under the published key id or another one', async () => {
    const { privateKey: forger } = await generateKeyPair('ES256');
    const sameKid = await failureOf(whoamiWith(await es256(forger, provider.kid, 'forged')));
    expect(sameKid.data?.code).toBe('UNAUTHORIZED');
    expect(sameKid.message).toMatch(/signature is invalid/);

    const otherKid = await failureOf(whoamiWith(await es256(forger, 'unknown-key', 'forged')));
    expect(otherKid.message).toMatch(/key the issuer does not publish/);
    expect(await usersWithSubject(testDb.orm, 'forged')).toEqual([]);
  });

  it("refuses an HS256 token claiming the provider's issuer, even signed with our secret", async () => {
    const failure = await failureOf(whoamiWith(await hs256({ iss: PROVIDER, sub: 'confused' })));
    expect(failure.message).toMatch(/HS256 tokens are not accepted/);
  });
});

describe('the authenticator’s memory of token users', () => {
  const testDb = useTestDatabase();
  const config = testServerConfig({ AUTH_JWT_SECRET: SECRET, AUTH_JWT_ISSUER: ISSUER });
  const headersFor = async (subject: string) => ({
    authorization: `Bearer ${await hs256({ iss: ISSUER, sub: subject })}`,
  });

  it('does not write to the user row on every request', async () => {
    const authenticator = createAuthenticator(config);
    const headers = await headersFor('regular');
    await authenticator.authenticate(headers, testDb.orm.em.fork());
    const [before] = await usersWithSubject(testDb.orm, 'regular');
    // Without the memory, the row's fresh lastSeenAt still spares it the write.
    await createAuthenticator(config).authenticate(headers, testDb.orm.em.fork());
    await authenticator.authenticate(headers, testDb.orm.em.fork());
    const [after] = await usersWithSubject(testDb.orm, 'regular');
    expect(after!.updatedAt).toEqual(before!.updatedAt);
    expect(after!.lastSeenAt).toEqual(before!.lastSeenAt);
  });

  it('notices a deleted account once its memory of the user expires', async () => {
    const authenticator = createAuthenticator(config, { ttlMs: 0 });
    const headers = await headersFor('leaver');
    expect((await authenticator.authenticate(headers, testDb.orm.em.fork())).principal).not.toBeNull();
    await testDb.orm.em.fork().nativeUpdate(UserSchema, { subject: 'leaver' }, { deletedAt: new Date() });
    expect(await authenticator.authenticate(headers, testDb.orm.em.fork())).toEqual({
      principal: null,
      failure: 'this account has been deleted',
    });
  });

  it('sees a role granted in the database', async () => {
    const authenticator = createAuthenticator(config, { ttlMs: 0 });
    const headers = await headersFor('promoted');
    await authenticator.authenticate(headers, testDb.orm.em.fork());
    await testDb.orm.em.fork().nativeUpdate(UserSchema, { subject: 'promoted' }, { role: 'admin' });
    expect((await authenticator.authenticate(headers, testDb.orm.em.fork())).principal).toMatchObject({
      kind: 'user',
      role: 'admin',
    });
  });
});
