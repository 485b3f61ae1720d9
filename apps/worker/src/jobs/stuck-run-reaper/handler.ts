import type { EntityManager } from '@threadstore/db';
import { canApply } from '@threadstore/domain';
import type { StuckRunReaperPayload } from '@threadstore/jobs';
import type { JobContext, JobResult } from '../contract.ts';
import { reapStuckInvestigations } from './investigations.ts';

// The reaper fails runs through the same lifecycle the API enforces; a table that stopped
// allowing running → failed must stop the reaper at load, not corrupt sessions at 3 a.m.
if (!canApply('fail', 'running')) throw new Error('the session lifecycle no longer lets a running session fail');

/**
 * One statement fails every stale run and writes its audit row. The staleness test sits in the
 * UPDATE's own WHERE, so it is re-checked on the row version the update locks: an agent whose
 * progress report commits while the reaper runs is not failed (PostgreSQL re-evaluates the
 * predicate after waiting for that row's lock).
 */
const FAIL_STALE_SESSIONS = `
  with reaped as (
    update chat_sessions
       set status = 'failed',
           error = format('no progress for %s minutes; failed by the stuck-run reaper', ?::int),
           finished_at = now(),
           last_activity_at = now(),
           version = version + 1
     where status = 'running'
       and coalesce(last_progress_at, started_at, created_at) < now() - make_interval(mins => ?::int)
    returning id, coalesce(last_progress_at, started_at, created_at) as last_sign_of_life
  ), audited as (
    insert into audit_log (actor_type, actor_id, action, subject_type, subject_id, details)
    select 'system', 'stuck-run-reaper', 'sessions.fail', 'session', id::text,
           jsonb_build_object('from', 'running', 'to', 'failed', 'lastSignOfLife', last_sign_of_life)
      from reaped
  )
  select id from reaped`;

const COUNT_STALE_SESSIONS = `
  select id from chat_sessions
   where status = 'running'
     and coalesce(last_progress_at, started_at, created_at) < now() - make_interval(mins => ?::int)`;

/**
 * A worker killed with SIGKILL (or a lost machine) never writes its run's outcome, and the row
 * would say `running` forever. No job may run that long (the longest expiry is an hour and pg-boss
 * aborts a run at expiry, which the runner records), so an older `running` row is a dead run's.
 */
const CLOSE_ABANDONED_RUNS = `
  update maintenance_runs
     set outcome = 'aborted',
         finished_at = greatest(now(), started_at),
         error = format('still running after %s hours: its worker stopped without recording an outcome; closed by the stuck-run reaper', ?::int)
   where outcome = 'running'
     and started_at < now() - make_interval(hours => ?::int)
  returning id`;

const COUNT_ABANDONED_RUNS = `
  select id from maintenance_runs
   where outcome = 'running' and started_at < now() - make_interval(hours => ?::int)`;

/**
 * The reaper itself leaves a receipt every minute (1,440 a day), so receipts need an end too.
 * At most PRUNE_BATCH rows a tick keeps the statement short; a backlog clears over a few ticks.
 */
const PRUNE_BATCH = 10_000;
const PRUNE_OLD_RUNS = `
  delete from maintenance_runs
   where id in (select id from maintenance_runs
                 where outcome <> 'running' and finished_at < now() - make_interval(days => ?::int)
                 limit ${PRUNE_BATCH})
  returning id`;
const COUNT_OLD_RUNS = `
  select id from maintenance_runs
   where outcome <> 'running' and finished_at < now() - make_interval(days => ?::int)
   limit ${PRUNE_BATCH}`;

export async function reapStuckRuns({ em, payload }: JobContext<StuckRunReaperPayload>): Promise<JobResult> {
  const { staleAfterMinutes, abandonedRunAfterHours, keepRunsDays, dryRun } = payload;
  const sessions = await ids(
    em,
    dryRun ? COUNT_STALE_SESSIONS : FAIL_STALE_SESSIONS,
    dryRun ? [staleAfterMinutes] : [staleAfterMinutes, staleAfterMinutes],
  );
  const runs = await ids(
    em,
    dryRun ? COUNT_ABANDONED_RUNS : CLOSE_ABANDONED_RUNS,
    dryRun ? [abandonedRunAfterHours] : [abandonedRunAfterHours, abandonedRunAfterHours],
  );
  const pruned = await ids(em, dryRun ? COUNT_OLD_RUNS : PRUNE_OLD_RUNS, [keepRunsDays]);
  const investigations = await reapStuckInvestigations(em, { staleAfterMinutes, dryRun });
  return {
    rowsAffected: dryRun ? 0 : sessions.length + runs.length + pruned.length + investigations.length,
    details: {
      dryRun,
      staleAfterMinutes,
      failedSessions: sessions,
      abandonedRunAfterHours,
      closedRuns: runs,
      keepRunsDays,
      prunedRuns: pruned.length,
      failedInvestigations: investigations,
    },
  };
}

async function ids(em: EntityManager, sql: string, params: unknown[]): Promise<string[]> {
  const rows: { id: string }[] = await em.getConnection().execute(sql, params);
  return rows.map((row) => row.id);
}
