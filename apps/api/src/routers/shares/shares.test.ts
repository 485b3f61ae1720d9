import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import type { Principal } from '@threadstore/domain';
import { anonymousPrincipal } from '@threadstore/domain/testing';
import { createLogger } from '@threadstore/runtime';
import { TRPCError } from '@trpc/server';
import { createApiServer, type ApiServer } from '../../server.ts';
import { callerAs } from '../../testing/caller.ts';
import { testServerConfig } from '../../testing/server-config.ts';
import { appRouter } from '../_app.ts';
import { auditRows, createSession, signedInUser } from '../messages/testing.ts';

const testDb = useTestDatabase();

/** The procedures that need no principal (publicProcedure), besides shares.view. */
const OPEN_TO_ANYONE = new Set(['health.check', 'auth.signUp', 'auth.signIn', 'academy.award']);

/** What a caller was refused with, exactly as it would compare. */
async function refusal(call: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    return { code: error.code, message: error.message };
  }
  throw new Error('the call succeeded');
}

/** A shared conversation: a user's session with three messages, the second answering the first. */
async function sharedConversation(owner: Principal) {
  const sessionId = await createSession(testDb.orm, owner);
  const api = callerAs(testDb.orm, owner, { requestId: 'share-req' });
  await api.sessions.update({ id: sessionId, title: 'the shared plan' });
  const question = await api.messages.append({
    sessionId,
    role: 'user',
    content: 'the secret question',
    metadata: { who: 'owner-meta' },
  });
  const answer = await api.messages.append({
    sessionId,
    role: 'assistant',
    content: 'the secret answer',
    parentId: question.id,
    model: 'model-a',
  });
  const later = await api.messages.append({ sessionId, role: 'user', content: 'a follow-up' });
  return { api, sessionId, question, answer, later };
}

describe('share links', () => {
  it('shows a snapshot up to the seq when shared, a live link as it is, and never what the owner deleted since', async () => {
    const owner = await signedInUser(testDb.orm);
    const { api, sessionId, question, answer } = await sharedConversation(owner);
    const snapshot = await api.shares.create({ sessionId });
    const live = await api.shares.create({ sessionId, mode: 'live' });
    expect(snapshot.share).toMatchObject({ sessionId, mode: 'snapshot', upToSeq: 3, active: true, revokedAt: null });
    expect(snapshot.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await api.messages.append({ sessionId, role: 'assistant', content: 'after the snapshot' });
    await api.messages.delete({ id: question.id });

    const anyone = callerAs(testDb.orm, null);
    const seen = await anyone.shares.view({ token: snapshot.token });
    expect(seen).toEqual({
      title: 'the shared plan',
      mode: 'snapshot',
      items: [
        {
          seq: 2,
          parentSeq: null,
          role: 'assistant',
          content: 'the secret answer',
          chapter: null,
          model: 'model-a',
          createdAt: answer.createdAt,
        },
        {
          seq: 3,
          parentSeq: null,
          role: 'user',
          content: 'a follow-up',
          chapter: null,
          model: null,
          createdAt: expect.any(String),
        },
      ],
      nextAfterSeq: null,
    });
    expect((await anyone.shares.view({ token: live.token })).items.map((m) => m.content)).toEqual([
      'the secret answer',
      'a follow-up',
      'after the snapshot',
    ]);
    // Restoring brings the message back into both, with its reply's parent.
    await api.messages.restore({ id: question.id });
    expect((await anyone.shares.view({ token: snapshot.token })).items.map((m) => [m.seq, m.parentSeq])).toEqual([
      [1, null],
      [2, 1],
      [3, null],
    ]);
    // Pages by seq.
    const first = await anyone.shares.view({ token: live.token, limit: 2 });
    expect(first.nextAfterSeq).toBe(2);
    const rest = await anyone.shares.view({ token: live.token, afterSeq: first.nextAfterSeq!, limit: 2 });
    expect(rest.items.map((m) => m.seq)).toEqual([3, 4]);
    expect(rest.nextAfterSeq).toBeNull();
    // Nothing that names the owner, the session or anything else: no ids, metadata, agent or provenance.
    const text = JSON.stringify([seen, first, rest]);
    const ownerId = owner.kind === 'user' ? owner.userId : '';
    for (const secret of [ownerId, sessionId, question.id, answer.id, 'owner-meta', snapshot.share.id]) {
      expect(text).not.toContain(secret);
    }
    // The owner lists and audits their links; the token is nowhere but in create's answer.
    expect((await api.shares.list({ sessionId })).items.map((s) => s.id).sort()).toEqual(
      [snapshot.share.id, live.share.id].sort(),
    );
    const stored = await testDb.orm.em
      .fork()
      .execute<{ token_hash: string }[]>('select token_hash from session_shares', []);
    expect(JSON.stringify(stored)).not.toContain(snapshot.token);
    expect((await auditRows(testDb.orm, 'shares.create')).map((row) => row.details.shareId)).toEqual(
      expect.arrayContaining([snapshot.share.id, live.share.id]),
    );
    expect(JSON.stringify(await auditRows(testDb.orm, 'shares.create'))).not.toContain(snapshot.token);
  });

  it('answers a revoked, expired or deleted-session link exactly like a token that never existed', async () => {
    const owner = anonymousPrincipal();
    const { api, sessionId } = await sharedConversation(owner);
    const anyone = callerAs(testDb.orm, null);
    const never = await refusal(anyone.shares.view({ token: 'x'.repeat(43) }));
    expect(never).toEqual({ code: 'NOT_FOUND', message: 'share not found' });

    const revoked = await api.shares.create({ sessionId, mode: 'live' });
    await anyone.shares.view({ token: revoked.token });
    const afterRevoke = await api.shares.revoke({ id: revoked.share.id });
    expect(afterRevoke).toMatchObject({ active: false, revokedAt: expect.any(String) });
    expect(await refusal(anyone.shares.view({ token: revoked.token }))).toEqual(never);
    // Revoking again changes nothing and audits once.
    expect((await api.shares.revoke({ id: revoked.share.id })).revokedAt).toBe(afterRevoke.revokedAt);
    expect(
      (await auditRows(testDb.orm, 'shares.revoke')).filter((r) => r.details.shareId === revoked.share.id),
    ).toHaveLength(1);

    const expiring = await api.shares.create({ sessionId, expiresAt: new Date(Date.now() + 60_000).toISOString() });
    await anyone.shares.view({ token: expiring.token });
    // The clock moves on: the link's expiry is now in the past.
    await testDb.orm.em
      .fork()
      .execute(`update session_shares set expires_at = now() - interval '1 millisecond' where id = ?`, [
        expiring.share.id,
      ]);
    expect(await refusal(anyone.shares.view({ token: expiring.token }))).toEqual(never);
    expect((await api.shares.list({})).items.find((s) => s.id === expiring.share.id)).toMatchObject({ active: false });
    await expect(
      api.shares.create({ sessionId, expiresAt: new Date(Date.now() - 1000).toISOString() }),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });

    const open = await api.shares.create({ sessionId, mode: 'live' });
    await api.sessions.delete({ id: sessionId });
    expect(await refusal(anyone.shares.view({ token: open.token }))).toEqual(never);
    // Restoring the session reopens a link that was not revoked.
    await api.sessions.restore({ id: sessionId });
    expect((await anyone.shares.view({ token: open.token })).items).toHaveLength(3);
  });

  it('is rate-limited per address like every call without credentials', async () => {
    const owner = await signedInUser(testDb.orm);
    const { api, sessionId } = await sharedConversation(owner);
    const { token } = await api.shares.create({ sessionId });
    const server = createApiServer({
      orm: testDb.orm,
      logger: createLogger('test', 'silent'),
      config: testServerConfig({ RATE_LIMIT_ADDRESS_PER_MINUTE: 60, RATE_LIMIT_ADDRESS_BURST: 3 }),
    });
    const url = `http://127.0.0.1:${(await server.listen()).port}/trpc/shares.view?input=${encodeURIComponent(JSON.stringify({ token }))}`;
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i += 1) statuses.push((await fetch(url)).status);
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      expect(statuses.slice(3)).toEqual([429, 429]);
    } finally {
      await server.close();
    }
  });

  describe('a token opens nothing but shares.view', () => {
    let server: ApiServer;
    let base: string;
    let token: string;
    let secrets: string[];
    beforeAll(async () => {
      const owner = await signedInUser(testDb.orm);
      const { api, sessionId, question, answer } = await sharedConversation(owner);
      token = (await api.shares.create({ sessionId, mode: 'live' })).token;
      secrets = [
        'the secret',
        'the shared plan',
        sessionId,
        question.id,
        answer.id,
        owner.kind === 'user' ? owner.userId : '',
      ];
      server = createApiServer({ orm: testDb.orm, logger: createLogger('test', 'silent'), config: testServerConfig() });
      base = `http://127.0.0.1:${(await server.listen()).port}/trpc`;
    });
    afterAll(() => server?.close());

    /** Inputs that put the token wherever an id or a token could go. */
    const inputs = () => [undefined, { token }, { id: token }, { sessionId: token }, { query: token, token }];

    it('works as no credential: every other procedure, over HTTP, with it in each header', async () => {
      const procedures = Object.entries(appRouter._def.procedures) as unknown as [string, { _def: { type: string } }][];
      const credentials: Record<string, string>[] = [
        { authorization: `Bearer ${token}` },
        { 'x-api-key': token },
        { 'x-session-id': token },
      ];
      let calls = 0;
      for (const [path, procedure] of procedures) {
        if (path === 'shares.view') continue;
        for (const headers of credentials) {
          for (const input of inputs()) {
            const query = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
            const response =
              procedure._def.type === 'mutation'
                ? await fetch(`${base}/${path}`, {
                    method: 'POST',
                    headers: { ...headers, 'content-type': 'application/json' },
                    body: JSON.stringify(input ?? null),
                    signal: AbortSignal.timeout(10_000),
                  })
                : await fetch(`${base}/${path}${query}`, { headers, signal: AbortSignal.timeout(10_000) });
            const body = await response.text();
            calls += 1;
            // Credentials that are present but wrong are refused, never taken for anyone; the
            // procedures open to everyone answer as they would anyone (and the body is checked).
            // A subscription's stream opens (200) and says so in its one error event.
            if (procedure._def.type === 'subscription') expect(body, path).toContain('UNAUTHORIZED');
            else if (!OPEN_TO_ANYONE.has(path))
              expect(response.status, `${path} with ${Object.keys(headers)[0]}`).toBe(401);
            for (const secret of secrets) expect(body, `${path} leaked`).not.toContain(secret);
          }
        }
      }
      expect(calls).toBeGreaterThan(300);
    }, 120_000);

    it('works as no id: every other procedure, called by a stranger and by nobody with it in the input', async () => {
      const stranger = callerAs(testDb.orm, await signedInUser(testDb.orm));
      const nobody = callerAs(testDb.orm, null);
      const visitor = callerAs(testDb.orm, anonymousPrincipal());
      let answered = 0;
      for (const path of Object.keys(appRouter._def.procedures)) {
        if (path === 'shares.view') continue;
        for (const caller of [stranger, nobody, visitor]) {
          for (const input of inputs()) {
            // Called without input, these act on the caller's own account: nothing of the share's to find.
            if (input === undefined && ['account.erase', 'auth.claimAnonymous'].includes(path)) continue;
            const procedure = path
              .split('.')
              .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller) as (
              input: unknown,
            ) => Promise<unknown>;
            let result: unknown;
            try {
              result = await procedure(input);
            } catch (error) {
              if (!(error instanceof TRPCError)) throw error;
              expect(['BAD_REQUEST', 'NOT_FOUND', 'UNAUTHORIZED', 'FORBIDDEN'], path).toContain(error.code);
              for (const secret of secrets) expect(error.message, path).not.toContain(secret);
              continue;
            }
            answered += 1;
            if (result !== null && typeof result === 'object' && Symbol.asyncIterator in result) {
              // A subscription of the caller's own: it opened, so close it; it carries only their own events.
              await (result as AsyncGenerator).return?.(undefined);
              continue;
            }
            const text = JSON.stringify(result) ?? '';
            for (const secret of secrets) expect(text, `${path} leaked`).not.toContain(secret);
          }
        }
      }
      // Some procedures do answer (health, the caller's own empty lists): the check above read them.
      expect(answered).toBeGreaterThan(0);
    }, 120_000);
  });
});

describe('shares across tenants', () => {
  it("lists only the caller's own links and revokes nobody else's", async () => {
    const owner = await signedInUser(testDb.orm);
    const { api, sessionId } = await sharedConversation(owner);
    const { share, token } = await api.shares.create({ sessionId });
    const other = callerAs(testDb.orm, await signedInUser(testDb.orm));
    expect((await other.shares.list({})).items).toEqual([]);
    expect((await other.shares.list({ sessionId })).items).toEqual([]);
    expect(await refusal(other.shares.revoke({ id: share.id }))).toEqual(
      await refusal(other.shares.revoke({ id: randomUUID() })),
    );
    expect(await refusal(other.shares.create({ sessionId }))).toEqual({
      code: 'NOT_FOUND',
      message: 'session not found',
    });
    expect((await callerAs(testDb.orm, null).shares.view({ token })).items).toHaveLength(3);
  });
});
