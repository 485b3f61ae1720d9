import type { EntityManager } from '@threadstore/db';
import { canApplyToInvestigation } from '@threadstore/domain';

// Investigations left running by an agent that died close like sessions do: failed through the
// lifecycle the API enforces, saying why, with an audit row.
if (!canApplyToInvestigation('fail', 'running')) {
  throw new Error('the investigation lifecycle no longer lets a running investigation fail');
}

/**
 * One statement fails every stale running investigation and writes its audit row. The staleness
 * test sits in the UPDATE's own WHERE, so it is re-checked on the row version the update locks:
 * a progress report (or a finding) that commits meanwhile saves the investigation.
 */
const FAIL_STALE_INVESTIGATIONS = `
  with reaped as (
    update investigations
       set status = 'failed',
           error = format('no progress for %s minutes; failed by the stuck-run reaper', ?::int),
           completed_at = greatest(now(), started_at)
     where status = 'running' and deleted_at is null
       and coalesce(last_progress_at, started_at, created_at) < now() - make_interval(mins => ?::int)
    returning id, coalesce(last_progress_at, started_at, created_at) as last_sign_of_life
  ), audited as (
    insert into audit_log (actor_type, actor_id, action, subject_type, subject_id, details)
    select 'system', 'stuck-run-reaper', 'investigations.fail', 'investigation', id::text,
           jsonb_build_object('from', 'running', 'to', 'failed', 'lastSignOfLife', last_sign_of_life)
      from reaped
  )
  select id from reaped`;

const COUNT_STALE_INVESTIGATIONS = `
  select id from investigations
   where status = 'running' and deleted_at is null
     and coalesce(last_progress_at, started_at, created_at) < now() - make_interval(mins => ?::int)`;

/** The ids of the running investigations silent for `staleAfterMinutes`, failed unless `dryRun`. */
export async function reapStuckInvestigations(
  em: EntityManager,
  { staleAfterMinutes, dryRun }: { staleAfterMinutes: number; dryRun: boolean },
): Promise<string[]> {
  const rows: { id: string }[] = await em
    .getConnection()
    .execute(
      dryRun ? COUNT_STALE_INVESTIGATIONS : FAIL_STALE_INVESTIGATIONS,
      dryRun ? [staleAfterMinutes] : [staleAfterMinutes, staleAfterMinutes],
    );
  return rows.map((row) => row.id);
}
