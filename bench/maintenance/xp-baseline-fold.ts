/*
 * The xp-rollup's fold as it was before 2026-12-07 (commit aac6718's
 * packages/domain/src/academy/rollup/fold.ts), kept verbatim as the benchmark's baseline
 * (`pnpm bench:xp` runs it on its own copy of the ledger beside the current fold). Not used by
 * the product. Changes: imports from @threadstore/domain, and the functions other than the
 * entry point are not exported.
 */
import type { EntityManager } from '@threadstore/db';
import {
  HORIZON_SQL,
  levelSql,
  loadRules,
  MISSION_REWARD_REASON,
  type RollupOptions,
  type RollupReport,
  type Rules,
} from '@threadstore/domain';

/*
 * The XP rollup folds the append-only ledger (academy_xp_transactions) into each learner's totals,
 * level, streak, mission progress and badges, in set-based SQL that bypasses the ORM: a batch is
 * thousands of rows and a handful of statements, where entities would be a round trip per learner.
 *
 * Which rows are new. Ledger ids come from a sequence when a row is inserted, but rows become
 * visible when their transaction commits, so a transaction that took id 100 can commit after one
 * that took id 101 was folded, and an id watermark would skip it for good. Each row records its
 * inserting transaction (tx_id, a never-wrapping xid8). The rollup only folds rows whose tx_id is
 * below the horizon: the oldest transaction still running *in this database* or its own, whichever
 * is older (horizon.ts says how, and why a transaction in another database of the server cannot
 * hold it back). Every transaction of this database below the horizon has ended, so every row it
 * will ever contribute is already visible, and none can appear behind the watermark later. The
 * watermark is a (tx_id, id) position, so a single transaction that inserted a million rows still
 * folds in batches. A long transaction in this database holds the horizon back; rows behind it
 * wait (the receipt counts them as `unfoldedRows`) but are never lost.
 *
 * Exactly once. The watermark lives in academy_xp_rollup_state and moves in the same transaction
 * as the totals it accounts for, under a row lock on that state, so a batch is folded entirely or
 * not at all, two runs never fold the same batch, and a crash just means the batch is folded again
 * by the next run. Mission rewards are ledger rows with a source_ref unique per learner, inserted
 * with ON CONFLICT DO NOTHING; badges are unique per learner: neither can be paid twice.
 *
 * Order independence. Everything a batch adds only grows (earned XP, corrected XP, active days,
 * mission progress, completions, badges), so the state after any sequence of batches is the one a
 * from-scratch computation gives. The one case an increment cannot handle is a row dated before a
 * learner's last active day (it may join or bridge earlier streaks); those learners' streaks are
 * recomputed from their whole folded ledger.
 *
 * Rebuild. `mode: "rebuild"` (and the very first run) recomputes every learner from the ledger
 * below a fixed horizon, a range of learner ids at a time, resuming after a crash from the last
 * learner done; once all are done the watermark jumps to that horizon and incremental folding
 * carries on from there.
 *
 * Commits use synchronous_commit = off: a crash can lose the last fraction of a second of batches,
 * but then it loses their watermark with them, and the next run folds them again.
 */

/** A position in the ledger's (tx_id, id) order; both are decimal text, as PostgreSQL returns them. */
interface LedgerPosition {
  txId: string;
  id: string;
}

interface StateRow {
  foldedTxId: string;
  foldedId: string;
  rebuildHorizon: string | null;
  rebuildAfterLearner: string | null;
}

/** Which learners a statement touches, as a SQL condition on a user id column. */
type LearnerFilter = (column: string) => string;

const NO_LEARNER = '00000000-0000-0000-0000-000000000000';
const UNFOLDED_COUNT_LIMIT = 100_000;

class DryRunRollback extends Error {}

/** Runs the rollup until it has folded everything below the horizon, or `signal` is aborted. */
export async function rollUpXpBaseline(em: EntityManager, options: RollupOptions): Promise<RollupReport> {
  if (!options.dryRun) return foldUntilCaughtUp(em, options);
  let report: RollupReport | undefined;
  try {
    await em.transactional(async (tx) => {
      report = await foldUntilCaughtUp(tx, options);
      throw new DryRunRollback();
    });
  } catch (error) {
    if (!(error instanceof DryRunRollback)) throw error;
  }
  return report!;
}

async function foldUntilCaughtUp(em: EntityManager, options: RollupOptions): Promise<RollupReport> {
  const report: RollupReport = {
    batches: 0,
    ledgerRows: 0,
    learnersUpdated: 0,
    learnersRebuilt: 0,
    missionsCompleted: 0,
    rewardsPaid: 0,
    badgesAwarded: 0,
    missionsExpired: 0,
    rebuild: null,
    watermark: { txId: '0', id: '0' },
    unfoldedRows: 0,
    skipped: { missions: [], badges: [] },
  };
  await em.execute(`insert into academy_xp_rollup_state (id) values (1) on conflict (id) do nothing`);
  if (options.mode === 'rebuild') await em.transactional((tx) => startRebuild(tx));

  let caughtUp = false;
  while (!caughtUp && !options.signal.aborted) {
    caughtUp = await em.transactional((tx) => foldNextBatch(tx, options, report));
    if (!caughtUp) await options.onBatch(report);
  }
  if (caughtUp) await em.transactional((tx) => expireEndedMissions(tx, report));

  const [state] = await em.execute<(LedgerPosition & { unfolded: number })[]>(
    `select s.folded_tx_id::text as "txId", s.folded_id::text as id,
            (select count(*)::int from (select 1 from academy_xp_transactions t
              where (t.tx_id, t.id) > (s.folded_tx_id, s.folded_id) limit ${UNFOLDED_COUNT_LIMIT}) pending) as unfolded
       from academy_xp_rollup_state s where s.id = 1`,
  );
  report.watermark = { txId: state!.txId, id: state!.id };
  report.unfoldedRows = state!.unfolded;
  return report;
}

/** Folds one batch; true when there was nothing (more) to fold below the horizon. */
async function foldNextBatch(tx: EntityManager, options: RollupOptions, report: RollupReport): Promise<boolean> {
  await tx.execute('set local synchronous_commit = off');
  // A rebuild batch sorts and groups a few hundred thousand rows; spilling that to disk at the
  // default work_mem made it several times slower.
  await tx.execute(`set local work_mem = '64MB'`);
  // The lock serializes runs (a CLI run beside a scheduled one, a run pg-boss gave up on still
  // finishing its batch beside the retry): the second waits, then reads the moved watermark.
  const [state] = await tx.execute<StateRow[]>(
    `select folded_tx_id::text as "foldedTxId", folded_id::text as "foldedId",
            rebuild_horizon::text as "rebuildHorizon", rebuild_after_user as "rebuildAfterLearner"
       from academy_xp_rollup_state where id = 1 for update`,
  );
  let { rebuildHorizon } = state!;
  // Nothing was ever folded: learner rows may hold totals from before the rollup existed, and a
  // large ledger folds faster learner by learner than in ledger order, so start with a rebuild.
  if (rebuildHorizon === null && state!.foldedTxId === '0') rebuildHorizon = await startRebuild(tx);
  const rules = await loadRules(tx);
  report.skipped = rules.skipped;
  if (rebuildHorizon !== null) {
    await rebuildNextLearners(tx, rules, rebuildHorizon, state!.rebuildAfterLearner, options, report);
    return false;
  }
  return foldLedgerBatch(tx, rules, { txId: state!.foldedTxId, id: state!.foldedId }, options, report);
}

/** Fixes the horizon a rebuild folds below; learners are then recomputed from rows under it. */
async function startRebuild(tx: EntityManager): Promise<string> {
  const [horizon] = await tx.execute<{ txId: string }[]>(HORIZON_SQL);
  await tx.execute(
    `update academy_xp_rollup_state set rebuild_horizon = ?::xid8, rebuild_after_user = null where id = 1`,
    [horizon!.txId],
  );
  return horizon!.txId;
}

async function foldLedgerBatch(
  tx: EntityManager,
  rules: Rules,
  from: LedgerPosition,
  options: RollupOptions,
  report: RollupReport,
): Promise<boolean> {
  // The horizon includes this transaction's own id: rewards it inserts below must not land behind
  // the new watermark (a transaction that started after this one could otherwise set it past them).
  // Read first and inlined, so the scan below stops at it instead of filtering every later row.
  const [horizon] = await tx.execute<{ txId: string }[]>(HORIZON_SQL);
  const [end] = await tx.execute<(LedgerPosition & { rows: number })[]>(
    `select tx_id::text as "txId", id::text as id, count(*) over ()::int as rows
       from (select t.tx_id, t.id from academy_xp_transactions t
              where (t.tx_id, t.id) > ${position(from)} and t.tx_id < '${digits(horizon!.txId)}'::xid8
              order by t.tx_id, t.id
              limit ${positiveInteger(options.batchSize)}) batch
      order by tx_id desc, id desc
      limit 1`,
  );
  if (!end) return true;
  report.batches += 1;
  const batch = `(t.tx_id, t.id) > ${position(from)} and (t.tx_id, t.id) <= ${position(end)}`;
  // A semi-join on the batch rather than a list of ids: PostgreSQL can hash it, where `= any(list)`
  // on a scan compares every row with every id.
  const inBatch: LearnerFilter = (column) =>
    `${column} in (select t.user_id from academy_xp_transactions t where ${batch})`;

  // Totals and streaks in one statement, so each learner's row is written once per batch.
  const learners = await tx.execute<{ affectedRows: number }>(
    `with stored as (
       select b.user_id, b.earned, b.corrected, u.last_active_day, u.current_streak, u.longest_streak
         from (select t.user_id,
                      coalesce(sum(t.amount) filter (where t.amount > 0), 0) as earned,
                      coalesce(-sum(t.amount) filter (where t.amount < 0), 0) as corrected
                 from academy_xp_transactions t where ${batch} group by t.user_id) b
         left join academy_users u using (user_id)
     ),
     batch_days as (
       -- Joined to the table, not to the stored CTE: the planner cannot estimate a CTE and would
       -- compare every pair of rows.
       select d.user_id, d.day, u.last_active_day, coalesce(u.current_streak, 0) as current_streak,
              coalesce(min(d.day) over (partition by d.user_id) < u.last_active_day, false) as late
         from (select distinct t.user_id, ${activeDay('t')} as day
                 from academy_xp_transactions t where ${batch} and ${isActivity('t')}) d
         left join academy_users u using (user_id)
     ),
     days as (
       -- Days after the last active one can only extend the current run (that day is counted).
       select user_id, day, last_active_day, current_streak, false as whole_history
         from batch_days where not late and (last_active_day is null or day > last_active_day)
       union all
       -- An earlier day may join or bridge any past run: read the learner's whole folded ledger.
       select distinct t.user_id, ${activeDay('t')}, null::date, 0, true
         from academy_xp_transactions t
        where t.user_id in (select user_id from batch_days where late)
          and (t.tx_id, t.id) <= ${position(end)} and ${isActivity('t')}
     ),
     ${STREAKS_FROM_DAYS}
     insert into academy_users as u
       (user_id, earned_xp, corrected_xp, total_xp, level, current_streak, longest_streak, last_active_day)
     select s.user_id, s.earned, s.corrected, greatest(s.earned - s.corrected, 0),
            ${levelSql('s.earned - s.corrected')},
            coalesce(k.current_streak, s.current_streak, 0),
            case when k.whole_history then k.longest_streak
                 else greatest(coalesce(s.longest_streak, 0), coalesce(k.longest_streak, 0)) end,
            coalesce(k.last_active_day, s.last_active_day)
       from stored s left join streaks k using (user_id)
     on conflict (user_id) do update set
       earned_xp = u.earned_xp + excluded.earned_xp,
       corrected_xp = u.corrected_xp + excluded.corrected_xp,
       total_xp = greatest(u.earned_xp + excluded.earned_xp - u.corrected_xp - excluded.corrected_xp, 0),
       level = ${levelSql('u.earned_xp + excluded.earned_xp - u.corrected_xp - excluded.corrected_xp')},
       current_streak = excluded.current_streak,
       longest_streak = excluded.longest_streak,
       last_active_day = excluded.last_active_day`,
    [],
    'run',
  );
  await tx.execute(
    `with ${MISSIONS_CTE},
     ${missionGains(batch)}
     insert into academy_user_missions as um (user_id, mission_id, progress)
     select g.user_id, g.mission_id, g.progress from gained g
      -- A completed mission's progress is at its target already: leave the row alone. Skipped
      -- here too, where a plain index probe is cheaper than a conflicting insert's row lock.
      where not exists (select 1 from academy_user_missions done
                         where done.user_id = g.user_id and done.mission_id = g.mission_id and done.status = 'completed')
     on conflict (user_id, mission_id) do update set progress = um.progress + excluded.progress
      where um.status <> 'completed'`,
    [missionsJson(rules)],
  );
  await tx.execute(
    `insert into academy_weekly_xp as w (week, user_id, xp)
     select ${weekOf('t')}, t.user_id, sum(t.amount) from academy_xp_transactions t where ${batch} group by 1, 2
     on conflict (week, user_id) do update set xp = w.xp + excluded.xp`,
  );
  const rewardsBefore = report.rewardsPaid;
  await settleLearners(tx, rules, inBatch, report);

  await tx.execute(`update academy_xp_rollup_state set (folded_tx_id, folded_id) = ${position(end)} where id = 1`);
  report.ledgerRows += end.rows;
  report.learnersUpdated += learners.affectedRows;
  // A full batch may have more behind it; rewards just paid are new ledger rows to fold next.
  return end.rows < options.batchSize && report.rewardsPaid === rewardsBefore;
}

/**
 * Recomputes the next learners (by id, after the last one done) from every ledger row below the
 * rebuild's horizon, or, when none are left, ends the rebuild by moving the watermark to it.
 */
async function rebuildNextLearners(
  tx: EntityManager,
  rules: Rules,
  horizon: string,
  afterLearner: string | null,
  options: RollupOptions,
  report: RollupReport,
): Promise<void> {
  const after = uuid(afterLearner ?? NO_LEARNER);
  const limit = positiveInteger(options.learnersPerBatch);
  // The batch is the next `limit` learners by id: those with ledger rows, and learner rows without
  // any (their totals go back to zero). Every statement then reads the id range (after, last],
  // which the ledger's (user_id, source_ref) index serves without touching anyone else's rows.
  const [batchEnd] = await tx.execute<{ last: string }[]>(
    `select user_id::text as last from (
       (select distinct user_id from academy_xp_transactions where user_id > '${after}' order by user_id limit ${limit})
       union
       (select user_id from academy_users where user_id > '${after}' order by user_id limit ${limit})
       order by user_id limit ${limit}
     ) candidates
     order by user_id desc limit 1`,
  );
  report.batches += 1;
  if (!batchEnd) {
    await tx.execute(
      `update academy_xp_rollup_state
          set folded_tx_id = rebuild_horizon, folded_id = 0, rebuild_horizon = null, rebuild_after_user = null
        where id = 1`,
    );
    report.rebuild = null;
    return;
  }
  const last = uuid(batchEnd.last);
  const inRange: LearnerFilter = (column) => `${column} > '${after}' and ${column} <= '${last}'`;
  const below = `t.tx_id < '${digits(horizon)}'::xid8`;

  const rebuilt = await tx.execute<{ affectedRows: number }>(
    `with ledger as (
       select t.user_id, t.amount, t.reason, t.created_at
         from academy_xp_transactions t where ${inRange('t.user_id')} and ${below}
     ),
     totals as (
       select user_id,
              coalesce(sum(amount) filter (where amount > 0), 0) as earned,
              coalesce(-sum(amount) filter (where amount < 0), 0) as corrected
         from ledger group by user_id
     ),
     learners as (
       select user_id from totals union select user_id from academy_users where ${inRange('user_id')}
     ),
     days as (
       select distinct user_id, ${activeDay('ledger')} as day, null::date as last_active_day,
              0 as current_streak, true as whole_history
         from ledger where ${isActivity('ledger')}
     ),
     ${STREAKS_FROM_DAYS}
     insert into academy_users as u
       (user_id, earned_xp, corrected_xp, total_xp, level, current_streak, longest_streak, last_active_day)
     select l.user_id, coalesce(x.earned, 0), coalesce(x.corrected, 0),
            greatest(coalesce(x.earned, 0) - coalesce(x.corrected, 0), 0),
            ${levelSql('coalesce(x.earned, 0) - coalesce(x.corrected, 0)')},
            coalesce(s.current_streak, 0), coalesce(s.longest_streak, 0), s.last_active_day
       from learners l left join totals x using (user_id) left join streaks s using (user_id)
     on conflict (user_id) do update set
       earned_xp = excluded.earned_xp, corrected_xp = excluded.corrected_xp, total_xp = excluded.total_xp,
       level = excluded.level, current_streak = excluded.current_streak,
       longest_streak = excluded.longest_streak, last_active_day = excluded.last_active_day`,
    [],
    'run',
  );
  await tx.execute(
    `with ${MISSIONS_CTE},
     ${missionGains(`${inRange('t.user_id')} and ${below}`)},
     recomputed as (
       select user_id, mission_id, progress from gained
       union all
       select um.user_id, um.mission_id, 0 from academy_user_missions um join missions m on m.id = um.mission_id
        where ${inRange('um.user_id')}
          and not exists (select 1 from gained g where g.user_id = um.user_id and g.mission_id = um.mission_id)
     )
     insert into academy_user_missions as um (user_id, mission_id, progress)
     select user_id, mission_id, progress from recomputed
     on conflict (user_id, mission_id) do update set progress = excluded.progress`,
    [missionsJson(rules)],
  );
  await tx.execute(`delete from academy_weekly_xp where ${inRange('user_id')}`);
  await tx.execute(
    `insert into academy_weekly_xp (week, user_id, xp)
     select ${weekOf('t')}, t.user_id, sum(t.amount) from academy_xp_transactions t
      where ${inRange('t.user_id')} and ${below} group by 1, 2`,
  );
  await settleLearners(tx, rules, inRange, report);

  await tx.execute(`update academy_xp_rollup_state set rebuild_after_user = '${last}' where id = 1`);
  report.rebuild = { horizon, afterLearner: last };
  report.learnersRebuilt += rebuilt.affectedRows;
}

/** The `gained` CTE: each learner's progress towards each mission from the ledger rows `where` picks. */
function missionGains(where: string): string {
  return `gained as (
       select t.user_id, m.id as mission_id, ${missionProgress('t', 'm')} as progress
         from academy_xp_transactions t join missions m on ${countsForMission('t', 'm')}
        where ${where}
        group by t.user_id, m.id, m.measure, m.target
     )`;
}

/**
 * What follows from the learners' new progress: mission statuses (completing the missions that
 * reached their target), the rewards of the missions completed now, paid in the same statement so
 * a completion never commits without its reward, then the badges the learners have reached.
 */
async function settleLearners(tx: EntityManager, rules: Rules, learners: LearnerFilter, report: RollupReport) {
  const [settled] = await tx.execute<{ completed: number; paid: number }[]>(
    `with ${MISSIONS_CTE},
     computed as (
       select um.id, um.status as old_status, um.progress as old_progress, least(um.progress, m.target) as progress,
              case when um.progress >= m.target then 'completed'
                   when m.ends_at <= now() then 'expired'
                   else 'in_progress' end as status
         from academy_user_missions um join missions m on m.id = um.mission_id
        where ${learners('um.user_id')}
     ),
     -- Only the rows whose status or progress changes go on to the update: comparing here, where
     -- each row has been read already, spares the update a lookup of every unchanged row.
     settled as (
       select id, progress, status from computed
        where (old_status, old_progress) is distinct from (status, progress)
     ),
     changed as (
       update academy_user_missions um
          set progress = s.progress, status = s.status,
              completed_at = case when s.status = 'completed' then coalesce(um.completed_at, now()) end
         from settled s
        where um.id = s.id
       returning um.user_id, um.mission_id, um.status
     ),
     paid as (
       insert into academy_xp_transactions (user_id, amount, reason, source_ref, metadata)
       select c.user_id, m.xp_reward, ?, 'mission-reward:' || m.id,
              jsonb_build_object('missionId', m.id, 'missionCode', m.code)
         from changed c join academy_missions m on m.id = c.mission_id
        where c.status = 'completed' and m.xp_reward > 0
       on conflict (user_id, source_ref) do nothing
       returning 1
     )
     select (select count(*)::int from changed where status = 'completed') as completed,
            (select count(*)::int from paid) as paid`,
    [missionsJson(rules), MISSION_REWARD_REASON],
  );
  // After the statuses: the missions measure counts the completions just made.
  const badges = await tx.execute<{ affectedRows: number }>(
    `with badges as (
       select * from jsonb_to_recordset(?::jsonb) as b(id uuid, measure text, threshold bigint)
     ),
     learners as (
       select u.user_id, u.earned_xp, u.longest_streak,
              (select count(*) from academy_user_missions um
                where um.user_id = u.user_id and um.status = 'completed') as missions
         from academy_users u
        where ${learners('u.user_id')}
     )
     insert into academy_user_badges (user_id, badge_id)
     select l.user_id, b.id
       from learners l join badges b
         on case b.measure when 'xp' then l.earned_xp when 'streak' then l.longest_streak else l.missions end
            >= b.threshold
      where not exists (select 1 from academy_user_badges ub where ub.user_id = l.user_id and ub.badge_id = b.id)
     on conflict (user_id, badge_id) do nothing`,
    [JSON.stringify(rules.badges)],
    'run',
  );
  report.missionsCompleted += settled!.completed;
  report.rewardsPaid += settled!.paid;
  report.badgesAwarded += badges.affectedRows;
}

/**
 * Marks expired the unfinished learner rows of missions that ended since the last sweep. Rows a
 * batch touches after their mission ended are settled as expired there; these are the rows no new
 * ledger row will touch again. Each ended mission is swept once, so the cost follows the missions
 * that ended, not every mission that ever did.
 */
async function expireEndedMissions(tx: EntityManager, report: RollupReport): Promise<void> {
  const rules = await loadRules(tx);
  const [state] = await tx.execute<{ since: string }[]>(
    `select coalesce(missions_expired_until, '-infinity')::text as since
       from academy_xp_rollup_state where id = 1 for update`,
  );
  const expired = await tx.execute<{ affectedRows: number }>(
    `with ${MISSIONS_CTE}
     update academy_user_missions um set status = 'expired'
       from missions m
      where um.mission_id = m.id and um.status = 'in_progress' and um.progress < m.target
        and m.ends_at > ?::timestamptz and m.ends_at <= now()`,
    [missionsJson(rules), state!.since],
    'run',
  );
  await tx.execute(`update academy_xp_rollup_state set missions_expired_until = now() where id = 1`);
  report.missionsExpired += expired.affectedRows;
}

/** The valid missions, passed as one JSON parameter and read with `MISSIONS_CTE`. */
function missionsJson(rules: Rules): string {
  return JSON.stringify(
    rules.missions.map(({ id, measure, reason, target, startsAt, endsAt }) => ({
      id,
      measure,
      reason: reason ?? null,
      target,
      starts_at: startsAt,
      ends_at: endsAt,
    })),
  );
}

const MISSIONS_CTE = `missions as (
  select * from jsonb_to_recordset(?::jsonb)
    as m(id uuid, measure text, reason text, target int, starts_at timestamptz, ends_at timestamptz)
)`;

/** A row that is learning activity: it makes its day active and counts for missions. */
const isActivity = (t: string) => `${t}.amount > 0 and ${t}.reason <> '${MISSION_REWARD_REASON}'`;

/** Days are UTC days, whatever the server's time zone. */
const activeDay = (t: string) => `(${t}.created_at at time zone 'UTC')::date`;

/** The UTC week (starting on Monday) a row counts for on the weekly leaderboard. */
const weekOf = (t: string) => `date_trunc('week', ${t}.created_at at time zone 'UTC')::date`;

const countsForMission = (t: string, m: string) =>
  `${isActivity(t)}
   and (${m}.reason is null or ${t}.reason = ${m}.reason)
   and (${m}.starts_at is null or ${t}.created_at >= ${m}.starts_at)
   and (${m}.ends_at is null or ${t}.created_at < ${m}.ends_at)`;

/** Capped at the target: it stays within an int whatever the XP, and reads as "12 of 12". */
const missionProgress = (t: string, m: string) =>
  `least(case when ${m}.measure = 'events' then count(*) else sum(${t}.amount) end, ${m}.target)::int`;

/**
 * From `days(user_id, day, last_active_day, current_streak, whole_history)`: each learner's
 * longest run of consecutive days, the run ending on their last active day, and that day.
 * Consecutive days share `day - row_number`. When the days are only the new ones
 * (`whole_history` false), a run starting the day after the stored last active day continues the
 * stored current run, so it adds that run's length.
 */
const STREAKS_FROM_DAYS = `islands as (
  select user_id, bool_or(whole_history) as whole_history, max(day) as last_day,
         count(*)::int + case when min(day) = max(last_active_day) + 1 then max(current_streak) else 0 end as length
    from (select *, day - (row_number() over (partition by user_id order by day))::int as island from days) numbered
   group by user_id, island
),
streaks as (
  select user_id, bool_or(whole_history) as whole_history, max(length) as longest_streak,
         max(last_day) as last_active_day, (array_agg(length order by last_day desc))[1] as current_streak
    from islands group by user_id
)`;

/** A ledger position as a SQL row value. Inlined (MikroORM inlines parameters anyway), so checked. */
function position({ txId, id }: LedgerPosition): string {
  return `('${digits(txId)}'::xid8, ${digits(id)}::bigint)`;
}

function digits(value: string): string {
  if (!/^\d+$/.test(value)) throw new Error(`not a ledger position: ${JSON.stringify(value)}`);
  return value;
}

function uuid(value: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) {
    throw new Error(`not a learner id: ${JSON.stringify(value)}`);
  }
  return value;
}

function positiveInteger(value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`not a batch size: ${value}`);
  return value;
}
