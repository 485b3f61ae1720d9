import { describe, expect, it } from 'vitest';
import { AuditLogSchema, ChatMessageSchema, ChatSessionSchema } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { findOwnedSession } from '@threadstore/domain';
import { anonymousPrincipal, createTestUser } from '@threadstore/domain/testing';
import { callerAs } from '../../testing/caller.ts';

describe('auth.claimAnonymous', () => {
  const testDb = useTestDatabase();

  async function signedInUser() {
    const { userId, principal } = await createTestUser(testDb.orm.em.fork());
    return { userId, caller: callerAs(testDb.orm, principal) };
  }

  /** Sessions written directly: the sessions procedures are not what this test is about. */
  async function sessionsOf(
    owner: { anonymousId: string } | { user: string },
    sessions: { clientKey?: string; title?: string; deleted?: boolean; messages?: number }[],
  ): Promise<string[]> {
    const em = testDb.orm.em.fork();
    const created = sessions.map(({ clientKey, title, deleted, messages = 0 }) => {
      const session = em.create(ChatSessionSchema, {
        ...owner,
        clientKey: clientKey ?? null,
        title: title ?? null,
        deletedAt: deleted ? new Date() : null,
        lastSeq: messages,
        messageCount: messages,
      });
      for (let seq = 1; seq <= messages; seq += 1) {
        em.create(ChatMessageSchema, { session, seq, role: 'user', content: `message ${seq}` });
      }
      return session;
    });
    await em.flush();
    return created.map((session) => session.id);
  }

  /** The sessions' rows in the order of `ids` (rows created in one flush share a created_at). */
  const rowsOf = async (ids: string[]) => {
    const rows = await testDb.orm.em.fork().find(ChatSessionSchema, { id: { $in: ids } });
    return ids.map((id) => rows.find((row) => row.id === id)!);
  };

  it('moves every session of the anonymous id to the user, deleted ones and messages included', async () => {
    const { userId, caller } = await signedInUser();
    const { anonymousId } = anonymousPrincipal();
    const ids = await sessionsOf({ anonymousId }, [{ clientKey: 'chapter-1', messages: 3 }, { deleted: true }]);

    expect(await caller.auth.claimAnonymous({ anonymousId })).toEqual({ claimedSessions: 2, clientKeysDropped: 0 });

    const rows = await rowsOf(ids);
    expect(rows.map((row) => ({ user: row.user?.id, anonymousId: row.anonymousId, version: row.version }))).toEqual([
      { user: userId, anonymousId: null, version: 2 },
      { user: userId, anonymousId: null, version: 2 },
    ]);
    expect(rows[0]!.clientKey).toBe('chapter-1');
    expect(await testDb.orm.em.fork().count(ChatMessageSchema, { session: ids[0]! })).toBe(3);
    // The anonymous visitor no longer reaches them; the user does.
    await expect(findOwnedSession(testDb.orm.em.fork(), { anonymousId }, ids[0]!)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(findOwnedSession(testDb.orm.em.fork(), { userId }, ids[0]!)).resolves.toMatchObject({ id: ids[0] });
  });

  it('is harmless the second time: it moves nothing', async () => {
    const { userId, caller } = await signedInUser();
    const { anonymousId } = anonymousPrincipal();
    const ids = await sessionsOf({ anonymousId }, [{ clientKey: 'a' }]);
    await caller.auth.claimAnonymous({ anonymousId });
    expect(await caller.auth.claimAnonymous({ anonymousId })).toEqual({ claimedSessions: 0, clientKeysDropped: 0 });
    expect((await rowsOf(ids))[0]).toMatchObject({ user: { id: userId }, version: 2 });
  });

  it("does not fail on a client key the user already uses: the user's session keeps it", async () => {
    const { userId, caller } = await signedInUser();
    const { anonymousId } = anonymousPrincipal();
    const [own] = await sessionsOf({ user: userId }, [{ clientKey: 'shared', title: 'mine' }]);
    const [colliding, distinct] = await sessionsOf({ anonymousId }, [
      { clientKey: 'shared', title: 'from the visit', messages: 2 },
      { clientKey: 'only-anonymous' },
    ]);

    expect(await caller.auth.claimAnonymous({ anonymousId })).toEqual({ claimedSessions: 2, clientKeysDropped: 1 });

    const rows = await rowsOf([own!, colliding!, distinct!]);
    expect(rows.map(({ id, clientKey, title, messageCount }) => ({ id, clientKey, title, messageCount }))).toEqual([
      { id: own, clientKey: 'shared', title: 'mine', messageCount: 0 },
      { id: colliding, clientKey: null, title: 'from the visit', messageCount: 2 },
      { id: distinct, clientKey: 'only-anonymous', title: null, messageCount: 0 },
    ]);
    expect(rows.every((row) => row.user?.id === userId)).toBe(true);
  });

  it("leaves another anonymous id's sessions alone", async () => {
    const { caller } = await signedInUser();
    const claimed = anonymousPrincipal().anonymousId;
    const bystander = anonymousPrincipal().anonymousId;
    await sessionsOf({ anonymousId: claimed }, [{}]);
    const bystanderIds = await sessionsOf({ anonymousId: bystander }, [{ clientKey: 'x' }, {}]);

    await caller.auth.claimAnonymous({ anonymousId: claimed });

    const rows = await rowsOf(bystanderIds);
    expect(rows.map((row) => [row.anonymousId, row.user, row.version])).toEqual([
      [bystander, null, 1],
      [bystander, null, 1],
    ]);
  });

  it('gives each of two users claiming one id at once all or nothing, never a share', async () => {
    const first = await signedInUser();
    const second = await signedInUser();
    const { anonymousId } = anonymousPrincipal();
    const ids = await sessionsOf({ anonymousId }, [{}, {}, {}]);

    const results = await Promise.all([
      first.caller.auth.claimAnonymous({ anonymousId }),
      second.caller.auth.claimAnonymous({ anonymousId }),
    ]);

    expect(results.map((result) => result.claimedSessions).sort()).toEqual([0, 3]);
    const owners = new Set((await rowsOf(ids)).map((row) => row.user?.id));
    expect(owners.size).toBe(1);
  });

  it('audits the claim with its counts', async () => {
    const { userId, caller } = await signedInUser();
    const { anonymousId } = anonymousPrincipal();
    await sessionsOf({ anonymousId }, [{}]);
    await caller.auth.claimAnonymous({ anonymousId });
    await caller.auth.claimAnonymous({ anonymousId });
    const rows = await testDb.orm.em
      .fork()
      .find(AuditLogSchema, { action: 'auth.claimAnonymous', subjectId: anonymousId }, { orderBy: { id: 'asc' } });
    expect(
      rows.map(({ actorType, actorId, subjectType, details }) => ({ actorType, actorId, subjectType, details })),
    ).toEqual([
      {
        actorType: 'user',
        actorId: userId,
        subjectType: 'anonymous',
        details: { claimedSessions: 1, clientKeysDropped: 0 },
      },
      {
        actorType: 'user',
        actorId: userId,
        subjectType: 'anonymous',
        details: { claimedSessions: 0, clientKeysDropped: 0 },
      },
    ]);
  });

  it('is for signed-in users only: anonymous visitors, API keys and malformed ids are refused', async () => {
    const { userId, principal } = await createTestUser(testDb.orm.em.fork());
    const { anonymousId } = anonymousPrincipal();
    const ids = await sessionsOf({ anonymousId }, [{}]);

    await expect(callerAs(testDb.orm, anonymousPrincipal()).auth.claimAnonymous({ anonymousId })).rejects.toMatchObject(
      { code: 'UNAUTHORIZED' },
    );
    const apiKey = { kind: 'apiKey', userId, role: 'user', apiKeyId: crypto.randomUUID(), scopes: ['write'] } as const;
    await expect(callerAs(testDb.orm, apiKey).auth.claimAnonymous({ anonymousId })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(
      callerAs(testDb.orm, principal).auth.claimAnonymous({ anonymousId: 'not-a-uuid' }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect((await rowsOf(ids))[0]).toMatchObject({ anonymousId, user: null });
  });
});
