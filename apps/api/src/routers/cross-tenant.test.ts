import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONTENT_LIMITS } from '@threadstore/contract';
import { ApiKeySchema } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { drainSearchQueue, type Principal } from '@threadstore/domain';
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
  entityId: string;
  otherEntityId: string;
  relationshipId: string;
  investigationId: string;
  /** An academy conversation of the victim's (an anonymous victim's user, alice, owns it). */
  academyConversationId: string;
  /** The learner behind the victim (alice for the anonymous victim too). */
  learnerId: string;
  projectId: string;
  knowledgeId: string;
  memoryId: string;
  turnId: string;
  /** A share link of the victim's session, and a clear of its messages that can be undone. */
  shareId: string;
  clearId: string;
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
  // An NDJSON body naming the victim's session (tRPC hands it to the procedure as a stream).
  'messages.import': (c, { sessionId }) =>
    c.messages.import(
      new Blob([
        `${JSON.stringify({ sessionId, role: 'user', content: 'injected', clientMessageId: 'injected' })}\n`,
      ]).stream() as unknown as Uint8Array,
    ),
  'messages.history': (c, { sessionId }) => c.messages.history({ sessionId }),
  'messages.get': (c, { messageId }) => c.messages.get({ id: messageId }),
  'messages.thread': (c, { messageId }) => c.messages.thread({ id: messageId }),
  'messages.delete': (c, { messageId }) => c.messages.delete({ id: messageId }),
  'messages.clear': (c, { sessionId }) => c.messages.clear({ sessionId }),
  'messages.edit': (c, { messageId }) => c.messages.edit({ id: messageId, content: 'taken over' }),
  'messages.versions': (c, { messageId }) => c.messages.versions({ id: messageId }),
  'apiKeys.revoke': (c, { apiKeyId }) => c.apiKeys.revoke({ id: apiKeyId }),
  'entities.get': (c, { entityId }) => c.entities.get({ id: entityId }),
  'entities.merge': (c, { entityId, otherEntityId }) =>
    c.entities.merge({ survivorId: entityId, mergedId: otherEntityId }),
  'entities.neighbours': (c, { entityId }) => c.entities.neighbours({ id: entityId, depth: 2 }),
  'entities.path': (c, { entityId, otherEntityId }) => c.entities.path({ fromId: entityId, toId: otherEntityId }),
  'relationships.upsert': (c, { entityId, otherEntityId }) =>
    c.relationships.upsert({ sourceId: otherEntityId, targetId: entityId, type: 'forged' }),
  'relationships.remove': (c, { relationshipId }) => c.relationships.remove({ id: relationshipId }),
  'investigations.get': (c, { investigationId }) => c.investigations.get({ id: investigationId }),
  'investigations.update': (c, { investigationId }) =>
    c.investigations.update({ id: investigationId, title: 'taken over' }),
  'investigations.start': (c, { investigationId }) => c.investigations.start({ id: investigationId }),
  'investigations.progress': (c, { investigationId }) =>
    c.investigations.progress({ id: investigationId, phase: 'x', confidence: 0.1 }),
  'investigations.complete': (c, { investigationId }) => c.investigations.complete({ id: investigationId }),
  'investigations.fail': (c, { investigationId }) => c.investigations.fail({ id: investigationId, error: 'x' }),
  'investigations.cancel': (c, { investigationId }) => c.investigations.cancel({ id: investigationId }),
  'investigations.addFinding': (c, { investigationId }) =>
    c.investigations.addFinding({ id: investigationId, summary: 'planted', confidence: 1 }),
  'investigations.findings': (c, { investigationId }) => c.investigations.findings({ id: investigationId }),
  'investigations.link': (c, { investigationId }) =>
    c.investigations.link({ id: investigationId, sessionIds: [randomUUID()] }),
  'investigations.unlink': (c, { investigationId }) =>
    c.investigations.unlink({ id: investigationId, sessionIds: [randomUUID()] }),
  'academy.completeConversation': (c, { academyConversationId }) =>
    c.academy.completeConversation({ id: academyConversationId }),
  'academy.award': (c, { learnerId }) =>
    c.academy.award({ userId: learnerId, amount: 50, reason: 'lesson', sourceEventId: 'cross-tenant' }),
  'projects.get': (c, { projectId }) => c.projects.get({ id: projectId }),
  'projects.update': (c, { projectId }) => c.projects.update({ id: projectId, name: 'taken over' }),
  'projects.archive': (c, { projectId }) => c.projects.archive({ id: projectId }),
  'projects.unarchive': (c, { projectId }) => c.projects.unarchive({ id: projectId }),
  'projects.delete': (c, { projectId }) => c.projects.delete({ id: projectId }),
  'knowledge.create': (c, { projectId }) => c.knowledge.create({ title: 'planted', content: 'x', projectId }),
  'knowledge.import': (c, { projectId }) =>
    c.knowledge.import({ entries: [{ title: 'planted', content: 'x', clientKey: 'k', projectId }] }),
  'knowledge.get': (c, { knowledgeId }) => c.knowledge.get({ id: knowledgeId }),
  'knowledge.update': (c, { knowledgeId }) => c.knowledge.update({ id: knowledgeId, title: 'taken over' }),
  'knowledge.delete': (c, { knowledgeId }) => c.knowledge.delete({ id: knowledgeId }),
  'knowledge.list': (c, { projectId }) => c.knowledge.list({ projectId }).then(emptyOrNotFound),
  'knowledge.search': (c, { projectId }) => c.knowledge.search({ query: 'secret', projectId }).then(emptyOrNotFound),
  'memories.create': (c, { sessionId }) => c.memories.create({ content: 'planted', sourceSessionId: sessionId }),
  'memories.get': (c, { memoryId }) => c.memories.get({ id: memoryId }),
  'memories.update': (c, { memoryId }) => c.memories.update({ id: memoryId, content: 'taken over' }),
  'memories.delete': (c, { memoryId }) => c.memories.delete({ id: memoryId }),
  'memories.history': (c, { memoryId }) => c.memories.history({ id: memoryId }),
  'memories.list': (c, { projectId }) => c.memories.list({ projectId }).then(emptyOrNotFound),
  'memories.search': (c, { projectId }) => c.memories.search({ query: 'secret', projectId }).then(emptyOrNotFound),
  'memories.context': (c, { projectId }) => c.memories.context({ query: 'secret', projectId }).then(emptyOrNotFound),
  'messages.search': (c, { sessionId }) => c.messages.search({ query: 'secret', sessionId }),
  'chat.send': (c, { sessionId }) => c.chat.send({ sessionId, content: 'injected' }),
  'chat.cancel': (c, { turnId }) => c.chat.cancel({ turnId }),
  'chat.turn': (c, { turnId }) => c.chat.turn({ turnId }),
  // Subscriptions: the stream is refused before it opens, exactly like a query.
  'chat.stream': (c, { turnId }) => c.chat.stream({ turnId }),
  'sessions.watch': (c, { sessionId }) => c.sessions.watch({ sessionId }),
  'sessions.fork': (c, { sessionId }) => c.sessions.fork({ sessionId }),
  'sessions.tag': (c, { sessionId }) => c.sessions.tag({ id: sessionId, tags: ['taken'] }),
  'sessions.untag': (c, { sessionId }) => c.sessions.untag({ id: sessionId, tags: ['secret'] }),
  'sessions.pin': (c, { sessionId }) => c.sessions.pin({ id: sessionId }),
  'sessions.unpin': (c, { sessionId }) => c.sessions.unpin({ id: sessionId }),
  'messages.restore': (c, { messageId }) => c.messages.restore({ id: messageId }),
  'messages.undoClear': (c, { clearId }) => c.messages.undoClear({ clearId }),
  'messages.rate': (c, { messageId }) => c.messages.rate({ messageId, value: 'down' }),
  'shares.create': (c, { sessionId }) => c.shares.create({ sessionId, mode: 'live' }),
  'shares.revoke': (c, { shareId }) => c.shares.revoke({ id: shareId }),
  'shares.list': (c, { sessionId }) => c.shares.list({ sessionId }).then(emptyOrNotFound),
};

/**
 * Listings filtered by a project id answer with nothing for a project that is not the caller's,
 * exactly as for one that does not exist; the matrix compares refusals, so "nothing" becomes one.
 */
function emptyOrNotFound(page: { items: unknown[] }): never {
  if (page.items.length > 0) throw new Error(`leaked ${page.items.length} rows`);
  throw new TRPCError({ code: 'NOT_FOUND', message: 'empty' });
}

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
  'admin.statsSeries': 'admins only',
  'entities.upsert': "writes the caller's own graph (a foreign projectId: graph/entities.test.ts)",
  'entities.search': "the caller's own graph (checked below)",
  'investigations.create': 'creates for the caller (foreign projectId and sessionId: investigations.test.ts)',
  'investigations.list': "the caller's own investigations (checked below)",
  'academy.profile': "the caller's own profile",
  'academy.updateProfile': "the caller's own profile",
  'academy.missions': "the catalog with the caller's own progress",
  'academy.badges': "the caller's own badges",
  'academy.startConversation':
    "creates for the caller; missionId is a catalog id (public), the session the caller's own",
  'academy.conversations': "the caller's own conversations (checked below)",
  'academy.leaderboard': 'public board of display names, no ids; the cursor is bound to its board',
  'academy.rank': "the caller's own rank",
  'academy.admin.createMission': 'admins only (routers/academy/academy.test.ts)',
  'academy.admin.updateMission': 'admins only; missions are catalog, not owned',
  'academy.admin.retireMission': 'admins only',
  'academy.admin.createBadge': 'admins only',
  'academy.admin.updateBadge': 'admins only; badges are catalog, not owned',
  'academy.admin.retireBadge': 'admins only',
  'projects.create': 'creates for the caller',
  'projects.list': "the caller's own projects (checked below)",
  'account.erase': "erases the caller's own account; takes no id (routers/account/account.test.ts)",
  'audit.list':
    "the caller's own trail; a subjectId only narrows it, scope 'all' is admins only (routers/audit/list.test.ts)",
  'retention.listPolicies': 'admins only (routers/retention/retention.test.ts)',
  'retention.setPolicy': 'admins only',
  'retention.removePolicy': 'admins only',
  'retention.preview': 'admins only',
  'sessions.tags': "the caller's own tags with counts (checked below)",
  'shares.view':
    'by an unguessable token, for anyone holding it: shares/shares.test.ts walks every other procedure with a token',
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
                (select json_agg(k order by id) from api_keys k) as keys,
                (select json_agg(n order by id) from entity_nodes n) as nodes,
                (select json_agg(r order by id) from entity_relationships r) as relationships,
                (select json_agg(i order by id) from investigations i) as investigations,
                (select json_agg(f order by id) from investigation_findings f) as findings,
                (select count(*) from investigation_sessions) as linked_sessions,
                (select json_agg(c order by id) from academy_conversations c) as academy_conversations,
                (select json_agg(x order by id) from academy_xp_transactions x) as xp_ledger,
                (select json_agg(u order by user_id) from academy_users u) as learners,
                (select json_agg(p order by id) from projects p) as projects,
                (select json_agg(e order by id) from knowledge_entries e) as knowledge,
                (select json_agg(kc order by entry_id, ordinal) from knowledge_chunks kc) as chunks,
                (select json_agg(mem order by id) from memories mem) as memories,
                (select json_agg(sh order by id) from session_shares sh) as shares,
                (select json_agg(rt order by id) from message_ratings rt) as ratings,
                (select json_agg(mc order by id) from message_clears mc) as clears,
                (select json_agg(v order by id) from chat_message_versions v) as message_versions`,
      );

  async function ownedBy(principal: Principal, keyOwnerId: string, learner: Principal): Promise<VictimIds> {
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
    // Anonymous visitors have no graph or investigations: the user who owns the key owns these.
    const owner = callerAs(testDb.orm, { kind: 'user', userId: keyOwnerId, role: 'user' });
    const entity = await owner.entities.upsert({ type: 'company', canonicalKey: randomUUID(), name: 'Secret Corp' });
    const other = await owner.entities.upsert({ type: 'person', canonicalKey: randomUUID(), name: 'Secret Agent' });
    const relationship = await owner.relationships.upsert({
      sourceId: entity.entity.id,
      targetId: other.entity.id,
      type: 'employs',
    });
    const investigation = await owner.investigations.create({ title: 'secret research', query: 'who?' });
    await owner.investigations.addFinding({ id: investigation.id, summary: 'a secret', confidence: 0.5 });
    const conversation = await callerAs(testDb.orm, learner).academy.startConversation({
      persona: 'tutor',
      topic: `secret lesson of ${principal.kind}`,
    });
    // A link, a rating, a tag and a pin on the session; a cleared (undoable) session beside it.
    const share = await caller.shares.create({ sessionId: session.id });
    await caller.messages.rate({ messageId: reply.id, value: 'up', comment: 'secret praise' });
    await caller.sessions.tag({ id: session.id, tags: ['secret'] });
    await caller.sessions.pin({ id: session.id });
    const cleared = await caller.sessions.create({ title: 'secret cleared' });
    await caller.messages.append({ sessionId: cleared.id, role: 'user', content: 'cleared secret' });
    const { clearId } = await caller.messages.clear({ sessionId: cleared.id });
    const owned = {
      shareId: share.share.id,
      clearId: clearId!,
      sessionId: session.id,
      messageId: reply.id,
      apiKeyId: key.id,
      entityId: entity.entity.id,
      otherEntityId: other.entity.id,
      relationshipId: relationship.relationship.id,
      investigationId: investigation.id,
      academyConversationId: conversation.id,
      learnerId: keyOwnerId,
      turnId: turn.id,
    };
    // Only signed-in users own projects, knowledge and memories.
    if (principal.kind === 'anonymous') {
      return { ...owned, projectId: randomUUID(), knowledgeId: randomUUID(), memoryId: randomUUID() };
    }
    const project = await caller.projects.create({ name: 'secret project' });
    const entry = await caller.knowledge.create({
      title: 'secret',
      content: 'the secret recipe',
      projectId: project.id,
    });
    const { memory } = await caller.memories.create({
      content: 'the secret is safe',
      projectId: project.id,
      sourceMessageId: reply.id,
    });
    await caller.memories.update({ id: memory.id, importance: 0.9 });
    return { ...owned, projectId: project.id, knowledgeId: entry.id, memoryId: memory.id };
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
      {
        name: 'a user',
        principal: alice.principal,
        ids: await ownedBy(alice.principal, alice.userId, alice.principal),
      },
      { name: 'an anonymous visitor', principal: visitor, ids: await ownedBy(visitor, alice.userId, alice.principal) },
    );
    // What the worker's search indexer does a few seconds after an append, so searches see them.
    await drainSearchQueue(testDb.orm.em.fork(), { batchSize: 1_000 });
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
      entityId: randomUUID(),
      otherEntityId: randomUUID(),
      relationshipId: randomUUID(),
      investigationId: randomUUID(),
      academyConversationId: randomUUID(),
      learnerId: randomUUID(),
      projectId: randomUUID(),
      knowledgeId: randomUUID(),
      memoryId: randomUUID(),
      turnId: randomUUID(),
      shareId: randomUUID(),
      clearId: randomUUID(),
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
    // Every procedure, twice per victim, for three attackers: minutes on a loaded machine.
  }, 180_000);

  it("never lists or finds another principal's rows", async () => {
    for (const attacker of attackers) {
      const caller = callerAs(testDb.orm, attacker.principal);
      for (const filter of [{}, { titleContains: 'secret' }, { deleted: true }, { archived: 'all' as const }]) {
        expect((await caller.sessions.list(filter)).items, `${attacker.name} lists ${JSON.stringify(filter)}`).toEqual(
          [],
        );
      }
      if (attacker.principal.kind === 'user') expect((await caller.apiKeys.list({})).items).toEqual([]);
      if (attacker.principal.kind !== 'anonymous') {
        expect((await caller.entities.search({ query: 'secret' })).items, attacker.name).toEqual([]);
        expect((await caller.investigations.list({})).items, attacker.name).toEqual([]);
        expect((await caller.academy.conversations()).items).toEqual([]);
        expect((await caller.projects.list({ archived: 'all' })).items).toEqual([]);
        expect((await caller.knowledge.list({})).items).toEqual([]);
        expect((await caller.knowledge.search({ query: 'secret' })).items).toEqual([]);
        expect((await caller.memories.list({})).items).toEqual([]);
        expect((await caller.memories.search({ query: 'secret' })).items).toEqual([]);
      }
      expect((await caller.sessions.tags({})).items, attacker.name).toEqual([]);
      expect((await caller.sessions.list({ tag: 'secret' })).items, attacker.name).toEqual([]);
      expect((await caller.shares.list({})).items, attacker.name).toEqual([]);
      expect((await caller.memories.context({ query: 'secret' })).items).toEqual([]);
      for (const query of ['secret', 'answer', 'secret or answer']) {
        expect((await caller.messages.search({ query })).items, `${attacker.name} searches "${query}"`).toEqual([]);
      }
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
      const found = await caller.messages.search({ query: 'secret OR answer', sessionId: victim.ids.sessionId });
      expect(found.items.map((hit) => hit.message.content).sort()).toEqual(['the answer', 'the secret']);
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
