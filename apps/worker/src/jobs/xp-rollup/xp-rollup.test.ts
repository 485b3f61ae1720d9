import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import {
  AcademyBadgeSchema,
  AcademyMissionSchema,
  AcademyXpTransactionSchema,
  UserSchema,
  type EntityManager,
} from '@threadstore/db';
import { createTestDatabase, useTestDatabase } from '@threadstore/db/testing';
import {
  LEDGER_FOLDABLE_SQL,
  levelForXp,
  MISSION_REWARD_REASON,
  rollUpXp,
  type BadgeCriteria,
  type MissionCriteria,
  type RollupOptions,
  type RollupReport,
} from '@threadstore/domain';

const DAY_MS = 86_400_000;
/** Ledger rows are dated on the days after this; missions' windows are set against it too. */
const EPOCH = Date.UTC(2026, 0, 5);
const dayOf = (day: number, hour = 12) => new Date(EPOCH + day * DAY_MS + hour * 3_600_000);

interface MissionDefinition extends MissionCriteria {
  code: string;
  xpReward: number;
  startsAt: Date | null;
  endsAt: Date | null;
}
interface BadgeDefinition extends BadgeCriteria {
  code: string;
}

const MISSIONS: MissionDefinition[] = [
  // Three lessons inside days 2–6.
  {
    code: 'lesson-week',
    measure: 'events',
    reason: 'lesson',
    target: 3,
    xpReward: 50,
    startsAt: dayOf(2, 0),
    endsAt: dayOf(7, 0),
  },
  // 200 XP from anything, any time.
  { code: 'first-200', measure: 'xp', target: 200, xpReward: 100, startsAt: null, endsAt: null },
  // Two quizzes by day 5; long over, so learners who fell short have it expired. No reward.
  {
    code: 'quiz-sprint',
    measure: 'events',
    reason: 'quiz',
    target: 2,
    xpReward: 0,
    startsAt: dayOf(0, 0),
    endsAt: dayOf(5, 0),
  },
];
const BADGES: BadgeDefinition[] = [
  { code: 'xp-300', measure: 'xp', threshold: 300 },
  { code: 'streak-3', measure: 'streak', threshold: 3 },
  { code: 'two-missions', measure: 'missions', threshold: 2 },
];

interface LedgerRow {
  userId: string;
  amount: number;
  reason: string;
  createdAt: Date;
}

describe('xp-rollup', () => {
  const testDb = useTestDatabase();
  const em = () => testDb.orm.em.fork();
  let learners: string[];
  let missionIds: Map<string, string>;
  let badgeIds: Map<string, string>;

  beforeAll(async () => {
    const setup = em();
    learners = [];
    for (let i = 0; i < 3; i++) {
      learners.push(
        (await setup.insert(UserSchema, { issuer: 'https://issuer.test', subject: `learner-${i}` })) as string,
      );
    }
    missionIds = new Map();
    for (const { code, xpReward, startsAt, endsAt, ...criteria } of MISSIONS) {
      const id = await setup.insert(AcademyMissionSchema, {
        code,
        title: code,
        xpReward,
        criteria: { ...criteria },
        startsAt,
        endsAt,
      });
      missionIds.set(code, id as string);
    }
    badgeIds = new Map();
    for (const { code, ...criteria } of BADGES) {
      badgeIds.set(
        code,
        (await setup.insert(AcademyBadgeSchema, { code, name: code, criteria: { ...criteria } })) as string,
      );
    }
  });

  beforeEach(async () => {
    await em().execute(
      `truncate academy_xp_transactions, academy_users, academy_user_missions, academy_user_badges, academy_xp_rollup_state, academy_weekly_xp`,
    );
  });

  /** Inserts through the ORM, as the API will: the row's tx_id comes from the column default. */
  async function award(target: EntityManager, learner: string, amount: number, reason: string, createdAt: Date) {
    await target.insert(AcademyXpTransactionSchema, {
      user: learner,
      amount,
      reason,
      sourceRef: randomUUID(),
      createdAt,
    });
  }

  function rollUp(options: Partial<RollupOptions> = {}, target: EntityManager = em()): Promise<RollupReport> {
    return rollUpXp(target, {
      mode: 'incremental',
      dryRun: false,
      batchSize: 1_000,
      learnersPerBatch: 100,
      signal: new AbortController().signal,
      onBatch: async () => {},
      ...options,
    });
  }

  /*
   * The horizon is this database's oldest running transaction, so other test files (each has a
   * database of its own) cannot hold it back; a transaction of this file left open can. Tests that
   * assert what a run folds still first wait until every row in the ledger is below the horizon,
   * and tests of the end state run the rollup until it settles.
   */
  async function waitUntilFoldable(): Promise<void> {
    for (let attempt = 0; attempt < 300; attempt++) {
      const [row] = await em().execute<{ ready: boolean }[]>(LEDGER_FOLDABLE_SQL);
      if (row!.ready) return;
      await sleep(100);
    }
    throw new Error('a transaction on the test server held the horizon back for 30 s');
  }

  /** Runs the rollup until nothing visible is left unfolded; the reports of every run. */
  async function settle(options: Partial<RollupOptions> = {}): Promise<RollupReport[]> {
    const reports: RollupReport[] = [];
    for (let attempt = 0; attempt < 300; attempt++) {
      const report = await rollUp(options);
      reports.push(report);
      if (report.unfoldedRows === 0 && report.rebuild === null) return reports;
      await sleep(100);
    }
    throw new Error('a transaction on the test server held the horizon back for 30 s');
  }

  const total = (
    reports: RollupReport[],
    field: 'learnersRebuilt' | 'ledgerRows' | 'missionsCompleted' | 'rewardsPaid' | 'badgesAwarded',
  ) => reports.reduce((sum, report) => sum + report[field], 0);

  /** The derived state, in a form that compares with toEqual (ids are learner/mission/badge codes). */
  async function readState() {
    const reader = em();
    const name = (id: string) => `learner-${learners.indexOf(id)}`;
    const mission = (id: string) => [...missionIds].find(([, missionId]) => missionId === id)![0];
    const badge = (id: string) => [...badgeIds].find(([, badgeId]) => badgeId === id)![0];
    const learnerRows = await reader.execute<Record<string, unknown>[]>(
      `select user_id as "userId", level, total_xp::int as "totalXp", earned_xp::int as "earnedXp",
              corrected_xp::int as "correctedXp", current_streak as "currentStreak",
              longest_streak as "longestStreak", to_char(last_active_day, 'YYYY-MM-DD') as "lastActiveDay"
         from academy_users`,
    );
    const missionRows = await reader.execute<{ userId: string; missionId: string; progress: number; status: string }[]>(
      `select user_id as "userId", mission_id as "missionId", progress, status from academy_user_missions`,
    );
    const badgeRows = await reader.execute<{ userId: string; badgeId: string }[]>(
      `select user_id as "userId", badge_id as "badgeId" from academy_user_badges`,
    );
    const rewardRows = await reader.execute<{ userId: string; sourceRef: string; amount: number }[]>(
      `select user_id as "userId", source_ref as "sourceRef", amount from academy_xp_transactions where reason = ?`,
      [MISSION_REWARD_REASON],
    );
    const weeklyRows = await reader.execute<{ userId: string; week: string; xp: number }[]>(
      `select user_id as "userId", to_char(week, 'YYYY-MM-DD') as week, xp::int as xp from academy_weekly_xp`,
    );
    const sorted = <T>(rows: T[]) => rows.map((row) => JSON.stringify(row)).sort();
    return {
      weekly: sorted(weeklyRows.map((row) => ({ ...row, userId: name(row.userId) }))),
      learners: sorted(learnerRows.map(({ userId, ...rest }) => ({ learner: name(userId as string), ...rest }))),
      missions: sorted(
        missionRows.map((row) => ({ ...row, userId: name(row.userId), missionId: mission(row.missionId) })),
      ),
      badges: badgeRows.map((row) => `${name(row.userId)}:${badge(row.badgeId)}`).sort(),
      rewards: sorted(rewardRows.map((row) => ({ ...row, userId: name(row.userId) }))),
    };
  }

  /**
   * The state the ledger calls for, computed in TypeScript from first principles, independently of
   * the SQL: the oracle the rollup's incremental and rebuild paths are both held to.
   */
  async function expectedState() {
    const ledger = (
      await em().execute<(Omit<LedgerRow, 'createdAt'> & { createdAtMs: number })[]>(
        `select user_id as "userId", amount, reason, extract(epoch from created_at)::float8 * 1000 as "createdAtMs"
           from academy_xp_transactions`,
      )
    ).map(({ createdAtMs, ...row }) => ({ ...row, createdAt: new Date(createdAtMs) }));
    const now = Date.now();
    const isActivity = (row: LedgerRow) => row.amount > 0 && row.reason !== MISSION_REWARD_REASON;
    const name = (id: string) => `learner-${learners.indexOf(id)}`;
    const learnerRows: object[] = [];
    const missionRows: object[] = [];
    const badgeRows: string[] = [];
    const rewardRows: object[] = [];
    const weeklyRows: object[] = [];
    for (const learner of new Set(ledger.map((row) => row.userId))) {
      const rows = ledger.filter((row) => row.userId === learner);
      // Weeks start on Monday (UTC); 1970-01-01 was a Thursday.
      const weekOf = (row: LedgerRow) => {
        const day = Math.floor(row.createdAt.getTime() / DAY_MS);
        return new Date((day - ((day + 3) % 7)) * DAY_MS).toISOString().slice(0, 10);
      };
      for (const week of new Set(rows.map(weekOf))) {
        const xp = rows.filter((row) => weekOf(row) === week).reduce((sum, row) => sum + row.amount, 0);
        weeklyRows.push({ userId: name(learner), week, xp });
      }
      const earned = rows.filter((row) => row.amount > 0).reduce((sum, row) => sum + row.amount, 0);
      const corrected = -rows.filter((row) => row.amount < 0).reduce((sum, row) => sum + row.amount, 0);
      const days = [...new Set(rows.filter(isActivity).map((row) => Math.floor(row.createdAt.getTime() / DAY_MS)))];
      days.sort((a, b) => a - b);
      let run = 0;
      let longest = 0;
      days.forEach((day, i) => {
        run = i > 0 && days[i - 1] === day - 1 ? run + 1 : 1;
        longest = Math.max(longest, run);
      });
      const lastDay = days.at(-1);
      learnerRows.push({
        learner: name(learner),
        level: levelForXp(earned - corrected),
        totalXp: Math.max(earned - corrected, 0),
        earnedXp: earned,
        correctedXp: corrected,
        currentStreak: run,
        longestStreak: longest,
        lastActiveDay: lastDay === undefined ? null : new Date(lastDay * DAY_MS).toISOString().slice(0, 10),
      });
      let completed = 0;
      for (const mission of MISSIONS) {
        const counted = rows.filter(
          (row) =>
            isActivity(row) &&
            (mission.reason === undefined || row.reason === mission.reason) &&
            (mission.startsAt === null || row.createdAt >= mission.startsAt) &&
            (mission.endsAt === null || row.createdAt < mission.endsAt),
        );
        if (counted.length === 0) continue;
        const measured = mission.measure === 'events' ? counted.length : counted.reduce((sum, r) => sum + r.amount, 0);
        const progress = Math.min(measured, mission.target);
        const done = progress >= mission.target;
        const ended = mission.endsAt !== null && mission.endsAt.getTime() <= now;
        missionRows.push({
          userId: name(learner),
          missionId: mission.code,
          progress,
          status: done ? 'completed' : ended ? 'expired' : 'in_progress',
        });
        if (done) completed += 1;
        if (done && mission.xpReward > 0) {
          rewardRows.push({
            userId: name(learner),
            sourceRef: `mission-reward:${missionIds.get(mission.code)}`,
            amount: mission.xpReward,
          });
        }
      }
      for (const badge of BADGES) {
        const measure = { xp: earned, streak: longest, missions: completed }[badge.measure];
        if (measure >= badge.threshold) badgeRows.push(`${name(learner)}:${badge.code}`);
      }
    }
    const sorted = <T>(rows: T[]) => rows.map((row) => JSON.stringify(row)).sort();
    return {
      weekly: sorted(weeklyRows),
      learners: sorted(learnerRows),
      missions: sorted(missionRows),
      badges: badgeRows.sort(),
      rewards: sorted(rewardRows),
    };
  }

  it('folds the ledger into totals, level, streak, mission progress, rewards and badges', async () => {
    const [ana, bo] = learners as [string, string];
    const writer = em();
    await award(writer, ana, 120, 'lesson', dayOf(2));
    await award(writer, ana, 80, 'lesson', dayOf(3));
    await award(writer, ana, 40, 'quiz', dayOf(4));
    await award(writer, ana, 30, 'lesson', dayOf(4, 18));
    await award(writer, ana, -20, 'correction', dayOf(8));
    await award(writer, bo, 10, 'quiz', dayOf(1));

    const reports = await settle();

    expect(await readState()).toEqual(await expectedState());
    const state = await readState();
    expect(state.learners.map((row) => JSON.parse(row))).toContainEqual({
      learner: 'learner-0',
      // 270 earned, a 20 XP correction, and the two rewards (50 + 100).
      earnedXp: 420,
      correctedXp: 20,
      totalXp: 400,
      level: 3,
      currentStreak: 3,
      longestStreak: 3,
      lastActiveDay: '2026-01-09',
    });
    expect(state.badges).toEqual(['learner-0:streak-3', 'learner-0:two-missions', 'learner-0:xp-300']);
    expect(state.missions.map((row) => JSON.parse(row))).toContainEqual({
      userId: 'learner-1',
      missionId: 'quiz-sprint',
      progress: 1,
      status: 'expired',
    });
    // The first run rebuilds both learners from the ledger, then folds the two reward rows it paid.
    const summed = (
      ['learnersRebuilt', 'ledgerRows', 'missionsCompleted', 'rewardsPaid', 'badgesAwarded'] as const
    ).map((field) => total(reports, field));
    expect(summed).toEqual([2, 2, 2, 2, 3]);
  });

  it('changes nothing and pays nothing when run again with nothing new', async () => {
    await award(em(), learners[0]!, 300, 'lesson', dayOf(3));
    await settle();
    const before = await readState();

    const again = await rollUp();

    expect(await readState()).toEqual(before);
    expect(again).toMatchObject({ ledgerRows: 0, rewardsPaid: 0, badgesAwarded: 0, missionsCompleted: 0 });
  });

  it('counts a row whose transaction commits after a later row was written exactly once', async () => {
    const [ana] = learners as [string];
    const late = em();
    await late.begin();
    try {
      // Takes its id (and transaction id) first, but commits last.
      await award(late, ana, 40, 'lesson', dayOf(3));
      await award(em(), ana, 25, 'lesson', dayOf(3));

      const whileOpen = await rollUp();
      // Nothing behind the open transaction is folded yet, so nothing can be skipped.
      expect(whileOpen).toMatchObject({ ledgerRows: 0, unfoldedRows: 1 });
      await late.commit();
    } catch (error) {
      await late.rollback();
      throw error;
    }

    expect(total(await settle(), 'ledgerRows')).toBe(2);
    await settle();

    const [learner] = (await readState()).learners.map((row) => JSON.parse(row));
    expect(learner).toMatchObject({ earnedXp: 65, totalXp: 65 });
  });

  /**
   * Past the first run's rebuild (a quiz for the second learner, settled), the first learner's
   * three lessons in lesson-week's window (reward 50) and 240 XP for first-200 (reward 100),
   * foldable but not yet folded: the next run folds them incrementally.
   */
  async function earnTwoRewardsIncrementally(): Promise<void> {
    const [ana, bo] = learners as [string, string];
    await award(em(), bo, 10, 'quiz', dayOf(1));
    await settle();
    await award(em(), ana, 120, 'lesson', dayOf(2));
    await award(em(), ana, 80, 'lesson', dayOf(3));
    await award(em(), ana, 40, 'lesson', dayOf(4));
    await waitUntilFoldable();
  }

  it('folds the rewards an incremental batch pays in that batch, and never again', async () => {
    await earnTwoRewardsIncrementally();

    const run = await rollUp();

    // One batch: the rewards it paid are in the totals it committed, nothing is left behind.
    expect(run).toMatchObject({ batches: 1, ledgerRows: 3, rewardsPaid: 2, unfoldedRows: 0 });
    expect(await readState()).toEqual(await expectedState());
    const rewards = await em().execute<{ folded: boolean }[]>(
      `select folded_on_insert as folded from academy_xp_transactions where reason = ?`,
      [MISSION_REWARD_REASON],
    );
    expect(rewards).toEqual([{ folded: true }, { folded: true }]);
    const [learner] = (await readState()).learners
      .map((row) => JSON.parse(row))
      .filter((row) => row.learner === 'learner-0');
    expect(learner).toMatchObject({ earnedXp: 390, totalXp: 390 });

    const before = await readState();
    expect(await rollUp()).toMatchObject({ batches: 0, ledgerRows: 0, rewardsPaid: 0, unfoldedRows: 0 });
    expect(await readState()).toEqual(before);
  });

  it('rebuild counts the rewards incremental batches folded, also those above its horizon', async () => {
    const bo = learners[1]!;
    await earnTwoRewardsIncrementally();
    // A transaction of this database that stays open: every horizon below is at or under its id.
    const open = em();
    await open.begin();
    try {
      await award(open, bo, 5, 'lesson', dayOf(5));
      // Folds ana's rows (older than the open transaction) and pays her rewards with its own,
      // newer, transaction id.
      expect(await rollUp()).toMatchObject({ ledgerRows: 3, rewardsPaid: 2 });
      const [ids] = await open.execute<{ rewardsAbove: boolean }[]>(
        `select bool_and(tx_id > pg_current_xact_id()) as "rewardsAbove"
           from academy_xp_transactions where reason = ?`,
        [MISSION_REWARD_REASON],
      );
      expect(ids!.rewardsAbove).toBe(true);

      // The rebuild's horizon is the open transaction's id, below the rewards'.
      const rebuilt = await rollUp({ mode: 'rebuild' });
      expect(rebuilt).toMatchObject({ learnersRebuilt: 2, rebuild: null });
      const [learner] = (await readState()).learners
        .map((row) => JSON.parse(row))
        .filter((row) => row.learner === 'learner-0');
      expect(learner).toMatchObject({ earnedXp: 390, totalXp: 390 });
      await open.commit();
    } catch (error) {
      await open.rollback();
      throw error;
    }
    await settle();
    expect(await readState()).toEqual(await expectedState());
  });

  it('folds at once beside a long transaction in another database of the same server', async () => {
    // Transaction ids are server-wide: with the old horizon (the oldest transaction running anywhere
    // on the server) this open transaction held every row written after it began back until it ended.
    const other = await createTestDatabase(inject('testPostgres'), { empty: true });
    const otherOrm = await other.createOrm();
    const longRunning = otherOrm.em.fork();
    try {
      await longRunning.begin();
      await longRunning.execute(`create table report_in_progress (id int)`);
      const [holder] = await longRunning.execute<{ txId: string }[]>(`select pg_current_xact_id()::text as "txId"`);
      const [ana, bo] = learners as [string, string];
      await award(em(), ana, 120, 'lesson', dayOf(2));
      await award(em(), bo, 10, 'quiz', dayOf(1));
      const [row] = await em().execute<{ behind: boolean }[]>(
        `select bool_and(tx_id > ?::xid8) as behind from academy_xp_transactions`,
        [holder!.txId],
      );
      expect(row!.behind).toBe(true);

      // One run, no waiting: both rows fold (the first run rebuilds both learners) while it stays open.
      const first = await rollUp();
      const again = await rollUp();

      expect(first).toMatchObject({ learnersRebuilt: 2, unfoldedRows: 0, rebuild: null });
      expect(again).toMatchObject({ ledgerRows: 0, unfoldedRows: 0 });
      const state = (await readState()).learners.map((learner) => JSON.parse(learner));
      expect(state).toContainEqual(expect.objectContaining({ learner: 'learner-0', earnedXp: 120 }));
      expect(state).toContainEqual(expect.objectContaining({ learner: 'learner-1', earnedXp: 10 }));
      // A transaction in this database still holds the horizon back, as exactly-once needs.
      const late = em();
      await late.begin();
      try {
        await award(late, ana, 40, 'lesson', dayOf(3));
        await award(em(), bo, 25, 'lesson', dayOf(3));
        expect(await rollUp()).toMatchObject({ ledgerRows: 0, unfoldedRows: 1 });
        await late.commit();
      } catch (error) {
        await late.rollback();
        throw error;
      }
      expect(total(await settle(), 'ledgerRows')).toBe(2);
      expect(await readState()).toEqual(await expectedState());
    } finally {
      await longRunning.rollback().catch(() => {});
      await otherOrm.close();
      await other.drop();
    }
  });

  it('recomputes the streaks of a learner who gets a row dated before their last active day', async () => {
    const ana = learners[0]!;
    for (const day of [1, 3, 6]) await award(em(), ana, 10, 'practice', dayOf(day));
    await settle();
    // Day 2 bridges days 1 and 3, far behind the current run (day 6).
    await award(em(), ana, 10, 'practice', dayOf(2));

    await settle();

    const [learner] = (await readState()).learners.map((row) => JSON.parse(row));
    expect(learner).toMatchObject({ longestStreak: 3, currentStreak: 1, lastActiveDay: '2026-01-11' });
    expect(await readState()).toEqual(await expectedState());
  });

  it('reports a dry run as the real run then does it, and writes nothing', async () => {
    await award(em(), learners[1]!, 10, 'lesson', dayOf(1));
    await award(em(), learners[1]!, 10, 'lesson', dayOf(2));
    await settle();
    await award(em(), learners[1]!, 10, 'lesson', dayOf(3));
    const before = await readState();
    await waitUntilFoldable();

    const dryRun = await rollUp({ dryRun: true });
    expect(await readState()).toEqual(before);
    const real = await rollUp();

    expect(dryRun).toEqual(real);
    expect(real).toMatchObject({ ledgerRows: 1, learnersUpdated: 1, badgesAwarded: 1, rewardsPaid: 0 });
  });

  it('reports a dry run over several batches that pay rewards as the real run', async () => {
    await award(em(), learners[0]!, 10, 'quiz', dayOf(1));
    await settle();
    // Each learner completes first-200 (reward 100) and, with the reward, reaches xp-300: one
    // batch each at a batch size of 1.
    for (const learner of learners) await award(em(), learner, 250, 'lesson', dayOf(3));
    const before = await readState();
    await waitUntilFoldable();

    const dryRun = await rollUp({ dryRun: true, batchSize: 1 });
    expect(await readState()).toEqual(before);
    const real = await rollUp({ batchSize: 1 });

    expect(dryRun).toEqual(real);
    expect(real).toMatchObject({ batches: 3, ledgerRows: 3, learnersUpdated: 3, rewardsPaid: 3, badgesAwarded: 3 });
    expect(await readState()).toEqual(await expectedState());
  });

  it('folds a large backlog in batches, reporting progress after each, and ends where one batch would', async () => {
    // 'practice' completes no mission, so no reward rows join the batches.
    for (let i = 0; i < 12; i++) await award(em(), learners[i % 3]!, 15 + i, 'practice', dayOf(i % 6));
    await settle(); // the first run is a rebuild; the rest of this test is about incremental batches
    for (let i = 0; i < 12; i++) await award(em(), learners[i % 3]!, 5 + i, 'practice', dayOf(6 + (i % 3)));
    const progress: number[] = [];
    await waitUntilFoldable();

    const report = await rollUp({ batchSize: 5, onBatch: async (so) => void progress.push(so.ledgerRows) });

    // The last batch is not full: the run has caught up, and its report is the receipt itself.
    expect(progress).toEqual([5, 10]);
    expect(report).toMatchObject({ batches: 3, ledgerRows: 12 });
    expect(await readState()).toEqual(await expectedState());
  });

  it('stops between batches when its signal is aborted, and the next run finishes the work', async () => {
    await settle();
    for (let i = 0; i < 9; i++) await award(em(), learners[i % 3]!, 30, 'practice', dayOf(3 + (i % 3)));
    const controller = new AbortController();
    await waitUntilFoldable();

    const stopped = await rollUp({
      batchSize: 2,
      signal: controller.signal,
      onBatch: async () => controller.abort(),
    });
    expect(stopped).toMatchObject({ batches: 1, ledgerRows: 2, unfoldedRows: 7 });
    await settle();

    expect(await readState()).toEqual(await expectedState());
  });

  it('skips and names a mission whose criteria it cannot read, and still folds the rest', async () => {
    await em().insert(AcademyMissionSchema, {
      code: 'broken-criteria',
      title: 'Broken',
      xpReward: 10,
      criteria: { measure: 'minutes', target: 3 },
    });
    try {
      await award(em(), learners[0]!, 50, 'lesson', dayOf(3));

      const [report] = await settle();

      expect(report!.skipped).toEqual({ missions: ['broken-criteria'], badges: [] });
      expect(await readState()).toEqual(await expectedState());
    } finally {
      await em().nativeDelete(AcademyMissionSchema, { code: 'broken-criteria' });
    }
  });

  it('rebuild recomputes learners whose stored totals drifted from the ledger', async () => {
    await award(em(), learners[0]!, 150, 'lesson', dayOf(3));
    await settle();
    await em().execute(
      `update academy_users set earned_xp = 999, total_xp = 999, level = 9, longest_streak = 7, current_streak = 7`,
    );

    await rollUp({ mode: 'rebuild' });
    await settle();

    expect(await readState()).toEqual(await expectedState());
  });

  it('ends, whatever the inserts, reruns, crashes, rebuilds and late commits, in the state the ledger calls for', async () => {
    type Op =
      | { kind: 'award'; learner: number; amount: number; reason: string; day: number; hour: number }
      | { kind: 'run'; batchSize: number }
      | { kind: 'crash'; batchSize: number; afterBatches: number }
      | { kind: 'dryRun'; batchSize: number }
      | { kind: 'rebuild'; learnersPerBatch: number; afterBatches: number | null }
      | { kind: 'openLate'; learner: number; amount: number; day: number }
      | { kind: 'closeLate'; commit: boolean };
    const op: fc.Arbitrary<Op> = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          kind: fc.constant('award' as const),
          // Mostly one learner, so that streaks, missions and badges build up.
          learner: fc.constantFrom(0, 0, 0, 1, 2),
          amount: fc.oneof(fc.integer({ min: 1, max: 120 }), fc.integer({ min: -60, max: -1 })),
          reason: fc.constantFrom('lesson', 'quiz', 'correction'),
          day: fc.integer({ min: 0, max: 9 }),
          hour: fc.integer({ min: 0, max: 23 }),
        }),
      },
      {
        weight: 3,
        arbitrary: fc.record({ kind: fc.constant('run' as const), batchSize: fc.integer({ min: 1, max: 4 }) }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('crash' as const),
          batchSize: fc.integer({ min: 1, max: 4 }),
          afterBatches: fc.integer({ min: 0, max: 3 }),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({ kind: fc.constant('dryRun' as const), batchSize: fc.integer({ min: 1, max: 4 }) }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('rebuild' as const),
          learnersPerBatch: fc.integer({ min: 1, max: 2 }),
          afterBatches: fc.option(fc.integer({ min: 1, max: 2 })),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('openLate' as const),
          learner: fc.integer({ min: 0, max: 2 }),
          amount: fc.integer({ min: 1, max: 80 }),
          day: fc.integer({ min: 0, max: 9 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('closeLate' as const), commit: fc.boolean() }) },
    );

    /** Aborts after `batches` batches: how a run is stopped part-way. */
    const stopAfter = (batches: number) => {
      const controller = new AbortController();
      let seen = 0;
      if (batches === 0) controller.abort();
      return {
        signal: controller.signal,
        onBatch: async () => {
          if (++seen >= batches) controller.abort();
        },
      };
    };

    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 18 }), async (ops) => {
        await em().execute(
          `truncate academy_xp_transactions, academy_users, academy_user_missions, academy_user_badges, academy_xp_rollup_state, academy_weekly_xp`,
        );
        const late: EntityManager[] = [];
        try {
          for (const step of ops) {
            switch (step.kind) {
              case 'award':
                await award(em(), learners[step.learner]!, step.amount, step.reason, dayOf(step.day, step.hour));
                break;
              case 'run':
                await rollUp({ batchSize: step.batchSize });
                break;
              case 'crash': {
                // The batches done before the "crash" are rolled back with it, as if never committed.
                const crashed = em();
                await crashed.begin();
                try {
                  await rollUp({ batchSize: step.batchSize, ...stopAfter(step.afterBatches) }, crashed);
                } finally {
                  await crashed.rollback();
                }
                break;
              }
              case 'dryRun': {
                const before = await readState();
                await rollUp({ batchSize: step.batchSize, dryRun: true });
                expect(await readState()).toEqual(before);
                break;
              }
              case 'rebuild':
                await rollUp({
                  mode: 'rebuild',
                  learnersPerBatch: step.learnersPerBatch,
                  ...(step.afterBatches === null ? {} : stopAfter(step.afterBatches)),
                });
                break;
              case 'openLate': {
                const transaction = em();
                await transaction.begin();
                await award(transaction, learners[step.learner]!, step.amount, 'lesson', dayOf(step.day));
                late.push(transaction);
                break;
              }
              case 'closeLate': {
                const transaction = late.shift();
                if (step.commit) await transaction?.commit();
                else await transaction?.rollback();
                break;
              }
            }
          }
        } finally {
          for (const transaction of late) await transaction.commit();
        }

        await settle({ batchSize: 3 });
        const folded = await readState();
        expect(folded).toEqual(await expectedState());
        await rollUp({ mode: 'rebuild', learnersPerBatch: 2 });
        await settle();
        expect(await readState()).toEqual(folded);
      }),
      { numRuns: 60 },
    );
  }, 240_000);
});
