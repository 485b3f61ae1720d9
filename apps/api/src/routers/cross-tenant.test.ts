import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONTENT_LIMITS } from '@threadstore/contract';
import { ApiKeySchema } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import type { Principal } from '@threadstore/domain';
import { anonymousPrincipal, createTestUser } from '@threadstore/domain/testing';
import { createLogger } from '@threadstore/runtime';
import { TRPCError } from '@trpc/server';
import { chatDefaultsFrom } from '../chat-env.ts';
import { createLive, type Live } from '../live/live.ts';
import { callerAs as rawCallerAs } from '../testing/caller.ts';
import { testServerConfig } from '../testing/server-config.ts';
import { appRouter } from './_app.ts';

/** The ids a victim owns; every id-taking procedure is called with them by every other principal. */
interface VictimIds {
  sessionId: string;
  messageId: string;
  apiKeyId: string;
  turnId: string;
}

type Caller = ReturnType<typeof rawCallerAs>;

/**
 * Every procedure that takes the id of something a principal owns, with a call that uses it.
 * A procedure added to the router must be listed here or in NO_OWNED_ID, or the first test fails.
 */
const ID_CALLS: Record<string, (caller: Caller, ids: VictimIds) => Promise<unknown>> = {
  'sessions.get': (c, { sessionId }) => c.sessions.get({ id: sessionId }),
  'sessions.update': (c, { sessionId }) => c.sessions.update({ id: sessionId, title: 'taken over' }),
  'sessions.archive': (c, { sessionId }) => c.sessions.archive({ id: sessionId }),
  'sessions.unarchive': (c, { sessionId }) => c.sessions.unarchive({ id: sessionId }),
  'sessions.delete': (c, { sessionId }) => c.sessions.delete({ id: sessionId }),
  'sessions.restore': (c, { sessionId }) => c.sessions.restore({ id: sessionId }),
  'sessions.purge': (c, { sessionId }) => c.sessions.purge({ id: sessionId }),
  'sessions.start': (c, { sessionId }) => c.sessions.start({ id: sessionId }),
  'sessions.progress': (c, { sessionId }) => c.sessions.progress({ id: sessionId, addCost: '1' }),
  'sessions.complete': (c, { sessionId }) => c.sessions.complete({ id: sessionId, synthesis: 'x' }),
  'sessions.fail': (c, { sessionId }) => c.sessions.fail({ id: sessionId, error: 'x' }),
  'sessions.kill': (c, { sessionId }) => c.sessions.kill({ id: sessionId }),
  'messages.append': (c, { sessionId }) => c.messages.append({ sessionId, role: 'user', content: 'injected' }),
  'messages.appendMany': (c, { sessionId }) =>
    c.messages.appendMany({ sessionId, messages: [{ role: 'user', content: 'injected' }] }),
  'messages.history': (c, { sessionId }) => c.messages.history({ sessionId }),
  'messages.get': (c, { messageId }) => c.messages.get({ id: messageId }),
  'messages.thread': (c, { messageId }) => c.messages.thread({ id: messageId }),
  'messages.delete': (c, { messageId }) => c.messages.delete({ id: messageId }),
  'messages.clear': (c, { sessionId }) => c.messages.clear({ sessionId }),
  'apiKeys.revoke': (c, { apiKeyId }) => c.apiKeys.revoke({ id: apiKeyId }),
  'chat.send': (c, { sessionId }) => c.chat.send({ sessionId, content: 'injected' }),
  'chat.cancel': (c, { turnId }) => c.chat.cancel({ turnId }),
  'chat.turn': (c, { turnId }) => c.chat.turn({ turnId }),
  // Subscriptions: the stream is refused before it opens, exactly like a query.
  'chat.stream': (c, { turnId }) => c.chat.stream({ turnId }),
  'sessions.watch': (c, { sessionId }) => c.sessions.watch({ sessionId }),
};

/** Procedures with no owned id in their input, and why that is safe. */
const NO_OWNED_ID: Record<string, string> = {
  'health.check': 'public, reads nothing of anyone',
  'auth.signUp': 'creates an account; no id in',
  'auth.signIn': 'by username and password',
  'auth.whoami': 'the caller itself',
  'auth.claimAnonymous': 'an anonymous id is a bearer secret: whoever holds it may claim it (by design)',
  'apiKeys.create': 'creates for the caller',
  'apiKeys.list': "the caller's own keys (checked below)",
  'sessions.create': 'creates for the caller (a foreign projectId is covered in sessions/cross-tenant.test.ts)',
  'sessions.getOrCreate': "by a client key within the caller's own sessions",
  'sessions.list': "the caller's own sessions (checked below)",
  'admin.listJobs': 'admins only (routers/admin/admin.test.ts)',
  'admin.runJob': 'admins only',
  'admin.listRuns': 'admins only',
  'admin.latestStats': 'admins only',
  'sessions.watchList':
    "the caller's own sessions: filed under the caller's owner key and re-read with the owner filter (checked below)",
};

describe('the cross-tenant matrix', () => {
  const testDb = useTestDatabase();
  let live: Live;
  const callerAs = (orm: Parameters<typeof rawCallerAs>[0], principal: Principal) =>
    rawCallerAs(orm, principal, { live });
  const victims: { name: string; principal: Principal; ids: VictimIds }[] = [];
  const attackers: { name: string; principal: Principal }[] = [];

  /** Everything any principal owns, as rows: must be byte-identical after the attacks. */
  const snapshot = () =>
    testDb.orm.em
      .fork()
      .getConnection()
      .execute(
        `select (select json_agg(s order by id) from chat_sessions s) as sessions,
                (select json_agg(m order by id) from chat_messages m) as messages,
                (select json_agg(k order by id) from api_keys k) as keys`,
      );

  async function ownedBy(principal: Principal, keyOwnerId: string): Promise<VictimIds> {
    const caller = callerAs(testDb.orm, principal);
    const session = await caller.sessions.create({ title: `secret plans of ${principal.kind}` });
    const root = await caller.messages.append({ sessionId: session.id, role: 'user', content: 'the secret' });
    const reply = await caller.messages.append({
      sessionId: session.id,
      role: 'assistant',
      content: 'the answer',
      parentId: root.id,
    });
    const em = testDb.orm.em.fork();
    const key = em.create(ApiKeySchema, {
      user: keyOwnerId,
      name: 'victim key',
      keyPrefix: 'ts_victim',
      keyHash: randomUUID().replaceAll('-', '').padEnd(64, '0'),
      scopes: ['read', 'write'],
    });
    await em.flush();
    // A finished turn of the conversation loop (the built-in responder answers).
    const chatSession = await caller.sessions.create({ title: 'secret chat' });
    const turn = await caller.chat.send({ sessionId: chatSession.id, content: 'the secret question' });
    return { sessionId: session.id, messageId: reply.id, apiKeyId: key.id, turnId: turn.id };
  }

  beforeAll(async () => {
    live = createLive({
      orm: testDb.orm,
      logger: createLogger('test', 'silent'),
      defaults: chatDefaultsFrom(testServerConfig()),
      limits: DEFAULT_CONTENT_LIMITS,
    });
    await live.start();
    await live.connected;
    const em = testDb.orm.em.fork();
    const alice = await createTestUser(em, { name: 'alice' });
    const visitor = anonymousPrincipal();
    victims.push(
      { name: 'a user', principal: alice.principal, ids: await ownedBy(alice.principal, alice.userId) },
      { name: 'an anonymous visitor', principal: visitor, ids: await ownedBy(visitor, alice.userId) },
    );
    const mallory = await createTestUser(em, { name: 'mallory' });
    const apiKeyId = randomUUID();
    attackers.push(
      { name: 'another user', principal: mallory.principal },
      {
        name: "another user's API key",
        principal: { kind: 'apiKey', userId: mallory.userId, role: 'user', apiKeyId, scopes: ['read', 'write'] },
      },
      { name: 'another anonymous visitor', principal: anonymousPrincipal() },
    );
  });

  afterAll(() => live?.stop());

  it('covers every procedure of the router', () => {
    const procedures = Object.keys(appRouter._def.procedures).sort();
    const classified = [...Object.keys(ID_CALLS), ...Object.keys(NO_OWNED_ID)].sort();
    expect(classified).toEqual(procedures);
  });

  it("answers another principal's ids exactly as ids that do not exist, changing nothing", async () => {
    const before = await snapshot();
    const missing: VictimIds = {
      sessionId: randomUUID(),
      messageId: randomUUID(),
      apiKeyId: randomUUID(),
      turnId: randomUUID(),
    };
    for (const attacker of attackers) {
      const caller = callerAs(testDb.orm, attacker.principal);
      for (const [procedure, call] of Object.entries(ID_CALLS)) {
        const baseline = await refusal(call(caller, missing));
        // A procedure this principal may use at all says NOT_FOUND; one it may not (API keys
        // managing keys, say) refuses for that reason, whatever the id.
        expect(['NOT_FOUND', 'FORBIDDEN', 'UNAUTHORIZED'], `${attacker.name} → ${procedure}`).toContain(baseline.code);
        for (const victim of victims) {
          const answer = await refusal(call(caller, victim.ids));
          expect(answer, `${attacker.name} → ${procedure} on ${victim.name}'s id`).toEqual(baseline);
        }
      }
    }
    expect(await snapshot()).toEqual(before);
  });

  it("never lists or finds another principal's rows", async () => {
    for (const attacker of attackers) {
      const caller = callerAs(testDb.orm, attacker.principal);
      for (const filter of [{}, { titleContains: 'secret' }, { deleted: true }, { archived: 'all' as const }]) {
        expect((await caller.sessions.list(filter)).items, `${attacker.name} lists ${JSON.stringify(filter)}`).toEqual(
          [],
        );
      }
      if (attacker.principal.kind === 'user') expect((await caller.apiKeys.list({})).items).toEqual([]);
    }
  });

  it("never delivers another principal's changes to a subscriber's session list", async () => {
    for (const attacker of attackers) {
      const caller = callerAs(testDb.orm, attacker.principal);
      const own = await caller.sessions.create({ title: 'mine' });
      // Leaving the loop below closes the subscription.
      const events = await caller.sessions.watchList({});
      const seen: string[] = [];
      const reading = (async () => {
        for await (const event of events as AsyncIterable<unknown>) {
          const [, data] = event as [string, { session: { id: string } }];
          seen.push(data.session.id);
          if (data.session.id === own.id) return;
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 200));
      // Every victim's sessions change, then (last) the attacker's own: once that arrives,
      // everything before it has been delivered or filtered.
      for (const victim of victims) {
        const victimCaller = callerAs(testDb.orm, victim.principal);
        await victimCaller.sessions.update({ id: victim.ids.sessionId, title: 'changed' });
        const fresh = await victimCaller.sessions.create({ title: 'new secret' });
        await victimCaller.chat.send({ sessionId: fresh.id, content: 'more secrets' });
      }
      await caller.sessions.update({ id: own.id, title: 'mine, changed' });
      await Promise.race([
        reading,
        new Promise((_, reject) => setTimeout(() => reject(new Error('no event for the own session')), 20_000)),
      ]);
      expect(seen, attacker.name).toEqual([own.id]);
    }
  });

  it('still serves each victim their own rows (the matrix attacked real data)', async () => {
    for (const victim of victims) {
      const caller = callerAs(testDb.orm, victim.principal);
      expect((await caller.messages.history({ sessionId: victim.ids.sessionId })).items).toHaveLength(2);
      expect(await caller.messages.get({ id: victim.ids.messageId })).toMatchObject({ content: 'the answer' });
    }
  });
});

/** What a call was refused with, as a client sees it. */
async function refusal(call: Promise<unknown>): Promise<{ code: string; message: string; details: unknown }> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    return { code: error.code, message: error.message, details: (error.cause as { details?: unknown })?.details };
  }
  throw new Error('the call succeeded');
}
