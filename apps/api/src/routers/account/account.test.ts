import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import { anonymousPrincipal, createTestUser, rowsMentioning, seedAccount } from '@threadstore/domain/testing';
import { SignJWT } from 'jose';
import { failureOf, startApi, type RunningApi } from '../../../test/http-api.ts';
import { callerAs } from '../../testing/caller.ts';

const SECRET = 'account-test-secret-of-at-least-32-characters';
const ISSUER = 'https://issuer.test';

function tokenFor(subject: string) {
  return new SignJWT({ iss: ISSUER, sub: subject })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));
}

describe('account export, import and erasure over HTTP', () => {
  const testDb = useTestDatabase();
  let api: RunningApi;
  beforeAll(async () => {
    api = await startApi(testDb.orm, { AUTH_JWT_SECRET: SECRET, AUTH_JWT_ISSUER: ISSUER });
  });
  afterAll(() => api?.close());

  const bearer = async (subject: string) => ({ authorization: `Bearer ${await tokenFor(subject)}` });

  it('exports as NDJSON, erases, and imports the file into a new account', async () => {
    const source = await seedAccount(testDb.orm.em.fork(), { messages: 40, name: 'http-source' });
    const exported = await fetch(`${api.url}/account/export`, { headers: await bearer('http-source') });
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    const body = await exported.text();
    const lines = body.trimEnd().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ kind: 'header', ownerId: source.userId });
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ kind: 'manifest', tables: { chat_messages: { rows: 41 } } });

    const receipt = await api.client(await bearer('http-source')).account.erase.mutate({ confirm: 'erase my account' });
    expect(receipt).toMatchObject({ status: 'completed', counts: { chat_messages: 41, users: 1 } });
    expect(await rowsMentioning(testDb.orm.em.fork(), [source.userId, source.email])).toEqual([]);

    await createTestUser(testDb.orm.em.fork(), { name: 'http-target' });
    const imported = await fetch(`${api.url}/account/import`, {
      method: 'POST',
      headers: { ...(await bearer('http-target')), 'content-type': 'application/x-ndjson' },
      body,
    });
    expect(imported.status).toBe(200);
    expect(await imported.json()).toMatchObject({
      imported: { chat_messages: 41, projects: 1 },
      skipped: { users: 1 },
    });
    const target = api.client(await bearer('http-target'));
    const { items } = await target.sessions.list.query({});
    expect(items.map((session) => session.title).sort()).toEqual(['before sign-in', 'first chat']);

    // The same file again: the account is no longer empty.
    const again = await fetch(`${api.url}/account/import`, {
      method: 'POST',
      headers: await bearer('http-target'),
      body,
    });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: { code: 'CONFLICT' } });
  });

  it('answers bad callers and bad files with typed errors', async () => {
    await createTestUser(testDb.orm.em.fork(), { name: 'http-empty' });
    const headers = await bearer('http-empty');
    expect((await fetch(`${api.url}/account/export`)).status).toBe(401);
    const anonymous = await fetch(`${api.url}/account/export`, {
      headers: { 'x-session-id': anonymousPrincipal().anonymousId },
    });
    expect(anonymous.status).toBe(401);
    expect((await fetch(`${api.url}/account/export`, { method: 'POST', headers })).status).toBe(405);
    for (const body of ['', 'not json\n', '{"kind":"header","format":"other"}\n', '\u0000\n']) {
      const response = await fetch(`${api.url}/account/import`, { method: 'POST', headers, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
    }
  });

  it('erases only for a signed-in person who confirms', async () => {
    const { principal, userId } = await createTestUser(testDb.orm.em.fork());
    const key = await callerAs(testDb.orm, principal).apiKeys.create({ name: 'k', scopes: ['read', 'write'] });
    const withKey = await failureOf(
      api.client({ 'x-api-key': key.key }).account.erase.mutate({ confirm: 'erase my account' }),
    );
    expect(withKey.data?.code).toBe('FORBIDDEN');
    await expect(
      callerAs(testDb.orm, anonymousPrincipal()).account.erase({ confirm: 'erase my account' }),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(
      callerAs(testDb.orm, principal).account.erase({ confirm: 'yes' as 'erase my account' }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const [user] = await testDb.orm.em
      .fork()
      .getConnection()
      .execute<{ deleted_at: Date | null }[]>('select deleted_at from users where id = ?', [userId]);
    expect(user).toEqual({ deleted_at: null });
  });
});
