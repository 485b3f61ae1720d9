import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '@threadstore/domain';
import { useTestDatabase } from '@threadstore/db/testing';
import { createTestUser } from '@threadstore/domain/testing';
import { TRPCError } from '@trpc/server';
import { failureOf, startApi, type RunningApi } from '../../../test/http-api.ts';
import { callerAs } from '../../testing/caller.ts';
import { settleXp } from './testing.ts';

describe('academy', () => {
  const testDb = useTestDatabase();
  let api: RunningApi;
  let admin: { userId: string; principal: Principal };
  let awarder: ReturnType<typeof callerAs>;

  beforeAll(async () => {
    api = await startApi(testDb.orm);
    admin = await createTestUser(testDb.orm.em.fork(), { role: 'admin' });
    awarder = callerAs(testDb.orm, {
      kind: 'apiKey',
      userId: admin.userId,
      role: 'admin',
      apiKeyId: randomUUID(),
      scopes: ['academy.award'],
    });
  });
  afterAll(() => api?.close());

  async function learner(name?: string) {
    const user = await createTestUser(testDb.orm.em.fork(), name === undefined ? {} : { name });
    return { ...user, caller: callerAs(testDb.orm, user.principal) };
  }

  const ledgerOf = async (userId: string) =>
    testDb.orm.em
      .fork()
      .getConnection()
      .execute<{ amount: number; reason: string; source_ref: string }[]>(
        `select amount, reason, source_ref from academy_xp_transactions where user_id = ? order by id`,
        [userId],
      );

  async function refusal(call: Promise<unknown>): Promise<string> {
    try {
      await call;
    } catch (error) {
      if (error instanceof TRPCError) return error.code;
      throw error;
    }
    throw new Error('the call succeeded');
  }

  it('creates a profile on first use, and lets the learner change only their display name', async () => {
    const { caller } = await learner();
    expect(await caller.academy.profile()).toMatchObject({
      displayName: null,
      level: 1,
      totalXp: 0,
      levelXp: 0,
      nextLevelXp: 100,
      currentStreak: 0,
      lastActiveDay: null,
    });
    expect(await caller.academy.updateProfile({ displayName: '  Ana  ' })).toMatchObject({ displayName: 'Ana' });
    expect(await caller.academy.profile()).toMatchObject({ displayName: 'Ana', totalXp: 0 });
  });

  it('never lets a client raise its own XP, whatever it calls', async () => {
    const { userId, principal, caller } = await learner();
    const ownKey = callerAs(testDb.orm, {
      kind: 'apiKey',
      userId,
      role: 'user',
      apiKeyId: randomUUID(),
      scopes: ['read', 'write'],
    });
    // Even a forged principal with the scope fails when its owner is not an administrator.
    const scopedButNotAdmin = callerAs(testDb.orm, {
      kind: 'apiKey',
      userId,
      role: 'user',
      apiKeyId: randomUUID(),
      scopes: ['academy.award'],
    });
    const selfAward = { userId, amount: 500, reason: 'lesson', sourceEventId: 'self' };
    const attempts: [string, () => Promise<unknown>, string][] = [
      ['award as the learner', () => caller.academy.award(selfAward), 'FORBIDDEN'],
      ["award with the learner's read/write key", () => ownKey.academy.award(selfAward), 'FORBIDDEN'],
      ['award with a non-admin academy.award key', () => scopedButNotAdmin.academy.award(selfAward), 'FORBIDDEN'],
      [
        'mint a key with the academy.award scope',
        () => caller.apiKeys.create({ name: 'minted', scopes: ['academy.award'] }),
        'FORBIDDEN',
      ],
      [
        'set XP through the profile',
        () => caller.academy.updateProfile({ displayName: 'x', totalXp: 9999 } as never),
        'BAD_REQUEST',
      ],
      [
        'set a level through the profile',
        () => caller.academy.updateProfile({ displayName: 'x', level: 50 } as never),
        'BAD_REQUEST',
      ],
      [
        'complete an academy conversation nobody spoke in',
        async () => {
          const conversation = await caller.academy.startConversation({ persona: 'tutor', topic: 'fractions' });
          return caller.academy.completeConversation({ id: conversation.id });
        },
        'PRECONDITION_FAILED',
      ],
      [
        'create a mission paying XP',
        () =>
          caller.academy.admin.createMission({
            code: 'free-xp',
            title: 'free',
            xpReward: 1000,
            criteria: { measure: 'events', target: 1 },
          }),
        'FORBIDDEN',
      ],
    ];
    for (const [what, attempt, code] of attempts) expect(await refusal(attempt()), what).toBe(code);
    // Over HTTP too, without any credentials or with the learner's anonymous id.
    const failure = await failureOf(api.client().academy.award.mutate(selfAward));
    expect(failure.data?.code).toBe('UNAUTHORIZED');
    void principal;

    await settleXp(testDb.orm);
    expect(await ledgerOf(userId)).toEqual([]);
    expect(await caller.academy.profile()).toMatchObject({ totalXp: 0, earnedXp: 0, level: 1 });
  });

  it('pays a retried award once, over HTTP with a real key, and refuses the same event with another amount', async () => {
    const { userId, caller } = await learner();
    const { key } = await callerAs(testDb.orm, admin.principal).apiKeys.create({
      name: 'grader',
      scopes: ['academy.award'],
    });
    const grader = api.client({ 'x-api-key': key });
    const input = { userId, amount: 40, reason: 'quiz', sourceEventId: 'quiz-7:attempt-1' };

    const first = await grader.academy.award.mutate(input);
    const retried = await grader.academy.award.mutate(input);

    expect(first).toMatchObject({ awarded: true, amount: 40, reason: 'quiz', sourceEventId: 'quiz-7:attempt-1' });
    expect(retried).toEqual({ ...first, awarded: false });
    const conflict = await failureOf(grader.academy.award.mutate({ ...input, amount: 400 }));
    expect(conflict.data?.code).toBe('CONFLICT');
    // The key awards and does nothing else.
    expect((await failureOf(grader.academy.profile.query())).data?.code).toBe('FORBIDDEN');
    expect((await failureOf(grader.academy.award.mutate({ ...input, userId: randomUUID() }))).data?.code).toBe(
      'NOT_FOUND',
    );
    expect(await ledgerOf(userId)).toEqual([{ amount: 40, reason: 'quiz', source_ref: 'event:quiz-7:attempt-1' }]);
    await settleXp(testDb.orm);
    expect(await caller.academy.profile()).toMatchObject({ totalXp: 40, earnedXp: 40 });
  });

  it('counts every one of many concurrent awards for one learner, and each duplicate once', async () => {
    const { userId, caller } = await learner();
    const events = Array.from({ length: 24 }, (_, i) => ({ sourceEventId: `lesson-${i}`, amount: 5 + i }));
    // Every event sent twice, all at once: 48 calls racing on one learner's ledger.
    const results = await Promise.all(
      [...events, ...events].map((event) => awarder.academy.award({ userId, reason: 'lesson', ...event })),
    );
    expect(results.filter((result) => result.awarded)).toHaveLength(events.length);
    await settleXp(testDb.orm);
    const expected = events.reduce((sum, event) => sum + event.amount, 0);
    // 396 XP: level 3 (reached at 300), level 4 at 600.
    expect(await caller.academy.profile()).toMatchObject({
      totalXp: expected,
      earnedXp: expected,
      level: 3,
      levelXp: 300,
      nextLevelXp: 600,
    });
    expect(await ledgerOf(userId)).toHaveLength(events.length);
  });

  it('runs an academy conversation on an ordinary session and pays its rule once', async () => {
    const { userId, caller } = await learner();
    const adminCaller = callerAs(testDb.orm, admin.principal);
    const mission = await adminCaller.academy.admin.createMission({
      code: `talks-${randomUUID().slice(0, 8)}`,
      title: 'Two conversations',
      xpReward: 30,
      criteria: { measure: 'events', target: 2, reason: 'academy_conversation' },
    });
    const conversation = await caller.academy.startConversation({
      persona: 'socratic-tutor',
      missionId: mission.id,
      topic: 'Public budgets',
    });
    expect(conversation).toMatchObject({
      persona: 'socratic-tutor',
      missionId: mission.id,
      topic: 'Public budgets',
      completedAt: null,
      session: { agentId: 'socratic-tutor', title: 'Public budgets', status: 'created' },
    });
    const sessionId = conversation.session.id;
    await caller.sessions.start({ id: sessionId });
    await caller.messages.append({ sessionId, role: 'user', content: 'What is a deficit?' });
    await caller.messages.append({ sessionId, role: 'assistant', content: 'Spending above revenue.' });

    const done = await caller.academy.completeConversation({ id: conversation.id });
    const again = await caller.academy.completeConversation({ id: conversation.id });

    expect(done.xpAwarded).toBe(20);
    expect(done.conversation.session.status).toBe('completed');
    expect(done.conversation.completedAt).not.toBeNull();
    expect(again.xpAwarded).toBe(0);
    expect(await ledgerOf(userId)).toEqual([
      { amount: 20, reason: 'academy_conversation', source_ref: `academy-conversation:${conversation.id}` },
    ]);
    expect((await caller.academy.conversations()).items.map((item) => item.id)).toEqual([conversation.id]);
    await settleXp(testDb.orm);
    const missions = await caller.academy.missions();
    expect(missions.items.find((item) => item.mission.id === mission.id)).toMatchObject({
      progress: 1,
      status: 'in_progress',
    });
    // Someone else's conversation, a missing one, a retired mission: all NOT_FOUND.
    const other = await learner();
    expect(await refusal(other.caller.academy.completeConversation({ id: conversation.id }))).toBe('NOT_FOUND');
    expect(await refusal(caller.academy.completeConversation({ id: randomUUID() }))).toBe('NOT_FOUND');
    await adminCaller.academy.admin.retireMission({ id: mission.id });
    expect(
      await refusal(caller.academy.startConversation({ persona: 'tutor', missionId: mission.id, topic: 'x' })),
    ).toBe('NOT_FOUND');
  });

  it('lets administrators manage the catalog, retiring instead of deleting what learners earned', async () => {
    const adminCaller = callerAs(testDb.orm, admin.principal);
    const { userId, caller } = await learner();
    const code = `first-xp-${randomUUID().slice(0, 8)}`;
    const badge = await adminCaller.academy.admin.createBadge({
      code,
      name: 'First steps',
      criteria: { measure: 'xp', threshold: 10 },
    });
    expect(
      await refusal(adminCaller.academy.admin.createBadge({ code, name: 'again', criteria: badge.criteria! })),
    ).toBe('CONFLICT');
    await awarder.academy.award({ userId, amount: 15, reason: 'lesson', sourceEventId: 'badge-me' });
    await settleXp(testDb.orm);
    expect((await caller.academy.badges()).items.map((item) => item.badge.code)).toContain(code);

    const updated = await adminCaller.academy.admin.updateBadge({
      id: badge.id,
      name: 'First steps (v2)',
      criteria: { measure: 'xp', threshold: 1000 },
    });
    expect(updated).toMatchObject({ name: 'First steps (v2)', criteria: { measure: 'xp', threshold: 1000 } });
    const retired = await adminCaller.academy.admin.retireBadge({ id: badge.id });
    expect(retired.retiredAt).not.toBeNull();
    expect((await adminCaller.academy.admin.retireBadge({ id: badge.id })).retiredAt).toBe(retired.retiredAt);
    await settleXp(testDb.orm);
    // Still earned, still shown.
    expect((await caller.academy.badges()).items.find((item) => item.badge.id === badge.id)?.badge.retiredAt).toBe(
      retired.retiredAt,
    );

    const mission = await adminCaller.academy.admin.createMission({
      code: `m-${randomUUID().slice(0, 8)}`,
      title: 'Window',
      xpReward: 0,
      criteria: { measure: 'xp', target: 100 },
      startsAt: '2026-01-01T00:00:00Z',
      endsAt: '2027-01-01T00:00:00Z',
    });
    expect(
      await refusal(adminCaller.academy.admin.updateMission({ id: mission.id, endsAt: '2025-01-01T00:00:00Z' })),
    ).toBe('BAD_REQUEST');
    expect(await refusal(adminCaller.academy.admin.updateMission({ id: randomUUID(), title: 'x' }))).toBe('NOT_FOUND');
    expect((await caller.academy.missions()).items.map((item) => item.mission.id)).toContain(mission.id);
    await adminCaller.academy.admin.retireMission({ id: mission.id });
    expect((await caller.academy.missions()).items.map((item) => item.mission.id)).not.toContain(mission.id);
    for (const call of [
      () => caller.academy.admin.retireMission({ id: mission.id }),
      () => caller.academy.admin.updateBadge({ id: badge.id, name: 'mine' }),
    ]) {
      expect(await refusal(call())).toBe('FORBIDDEN');
    }
    const audit = await testDb.orm.em
      .fork()
      .getConnection()
      .execute<{ action: string }[]>(`select distinct action from audit_log where action like 'academy.admin.%'`);
    expect(audit.map((row) => row.action).sort()).toEqual(
      expect.arrayContaining(['academy.admin.createBadge', 'academy.admin.retireBadge', 'academy.admin.updateBadge']),
    );
  });

  it('ranks and pages the leaderboards as a recomputation from the ledger does, after random awards and rollups', async () => {
    // A board of its own: learners created here, the ledger cleared of everyone else's rows.
    const em = testDb.orm.em.fork();
    await em
      .getConnection()
      .execute(
        `truncate academy_xp_transactions, academy_users, academy_weekly_xp, academy_user_missions, academy_user_badges, academy_xp_rollup_state`,
      );
    const board: { userId: string; caller: ReturnType<typeof callerAs> }[] = [];
    for (let i = 0; i < 6; i++) board.push(await learner(`board-${i}-${randomUUID().slice(0, 6)}`));
    for (const [i, member] of board.entries()) await member.caller.academy.updateProfile({ displayName: `L${i}` });
    let event = 0;

    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({
              kind: fc.constant('award' as const),
              learner: fc.integer({ min: 0, max: 5 }),
              // Few distinct amounts, so ties are common; corrections too.
              amount: fc.constantFrom(10, 10, 20, 30, -10),
            }),
            fc.record({ kind: fc.constant('rollup' as const) }),
          ),
          { minLength: 1, maxLength: 12 },
        ),
        fc.integer({ min: 1, max: 4 }),
        async (steps, pageLimit) => {
          for (const step of steps) {
            if (step.kind === 'rollup') await settleXp(testDb.orm);
            else {
              await awarder.academy.award({
                userId: board[step.learner]!.userId,
                amount: step.amount,
                reason: 'lesson',
                sourceEventId: `e${event++}`,
              });
            }
          }
          await settleXp(testDb.orm);
          const ledger = await em.getConnection().execute<{ user_id: string; amount: number; this_week: boolean }[]>(
            `select user_id, amount,
                      created_at >= date_trunc('week', now() at time zone 'UTC') at time zone 'UTC' as this_week
                 from academy_xp_transactions`,
          );
          for (const period of ['allTime', 'week'] as const) {
            // The recomputation: all-time is max(0, net), the week is the net of this week's rows;
            // every learner with a profile is on the all-time board, those with rows this week on the weekly one.
            const xp = new Map<string, number>();
            if (period === 'allTime') for (const member of board) xp.set(member.userId, 0);
            for (const row of ledger) {
              if (period === 'week' && !row.this_week) continue;
              xp.set(row.user_id, (xp.get(row.user_id) ?? 0) + row.amount);
            }
            if (period === 'allTime') for (const [id, value] of xp) xp.set(id, Math.max(0, value));
            const expected = [...xp]
              .sort(([a, x], [b, y]) => y - x || (a < b ? 1 : a > b ? -1 : 0))
              .map(([id, value]) => ({
                name: `L${board.findIndex((member) => member.userId === id)}`,
                xp: value,
                rank: 1 + [...xp.values()].filter((other) => other > value).length,
              }));

            const viewer = board[0]!.caller;
            const seen: { name: string | null; xp: number; rank: number }[] = [];
            let cursor: string | undefined;
            do {
              const page = await viewer.academy.leaderboard({ period, limit: pageLimit, cursor });
              seen.push(...page.items.map((item) => ({ name: item.displayName, xp: item.xp, rank: item.rank })));
              cursor = page.nextCursor ?? undefined;
            } while (cursor !== undefined);
            expect(seen, period).toEqual(expected);

            for (const [i, member] of board.entries()) {
              const mine = await member.caller.academy.rank({ period, neighbours: 1 });
              const at = expected.findIndex((entry) => entry.name === `L${i}`);
              if (at === -1) {
                expect(mine.you, `L${i} ${period}`).toBeNull();
                continue;
              }
              expect(mine.you, `L${i} ${period}`).toEqual({
                rank: expected[at]!.rank,
                displayName: `L${i}`,
                level: expect.any(Number),
                xp: expected[at]!.xp,
                isYou: true,
              });
              expect(
                mine.around.map((entry) => entry.displayName),
                `neighbours of L${i} ${period}`,
              ).toEqual(expected.slice(Math.max(0, at - 1), at + 2).map((entry) => entry.name));
            }
          }
        },
      ),
      { numRuns: 25 },
    );
  }, 240_000);

  it('refuses a cursor from another board', async () => {
    const { caller } = await learner();
    await caller.academy.profile();
    const page = await caller.academy.leaderboard({ period: 'allTime', limit: 1 });
    expect(page.nextCursor).not.toBeNull();
    expect(await refusal(caller.academy.leaderboard({ period: 'week', cursor: page.nextCursor! }))).toBe('BAD_REQUEST');
    expect(await refusal(caller.academy.leaderboard({ period: 'allTime', cursor: 'garbage' }))).toBe('BAD_REQUEST');
  });
});
