import type { PoolClient } from 'pg';
import type { RetentionPayload } from '@threadstore/jobs';
import { governingPolicy, underLegalHold } from './handler.ts';

/**
 * Projects their owners deleted (soft: `deleted_at`) past the `soft_deleted` grace period of
 * their governing policy (the project's, else the owner's, else the global one), not under a
 * legal hold. $1 is the run's cutoff, $2 the batch size. Skips rows another transaction holds,
 * so a project being edited right now waits for the next run instead of blocking this one.
 */
const DOOMED_PROJECTS = `
  select pr.id
  from projects pr
  cross join lateral (${governingPolicy(`'soft_deleted'`, 'pr.owner_id', 'pr.id')}) g
  where pr.deleted_at is not null
    and pr.deleted_at < $1::timestamptz - make_interval(days => g.keep_for_days)
    and not ${underLegalHold('pr.owner_id', 'pr.id')}
  order by pr.deleted_at
  limit $2
  for update of pr skip locked`;

/**
 * Deleting a project detaches what was filed under it (sessions, entries and memories keep living,
 * project null, by their foreign keys' ON DELETE SET NULL). Knowledge slices copy the project id
 * without a foreign key, so they are detached here, in the same statement.
 */
const DELETE_PROJECTS = `
  with doomed as (${DOOMED_PROJECTS}),
  detached as (update knowledge_chunks c set project_id = null from doomed d where c.project_id = d.id)
  delete from projects p using doomed d where p.id = d.id
  returning p.id`;

const COUNT_PROJECTS = `select count(*)::int as n from (${DOOMED_PROJECTS.replace('for update of pr skip locked', '')}) doomed`;

/**
 * Purges soft-deleted projects past their grace period, in short transactions of `batchSize`
 * projects; returns how many went (or, in a dry run, would go). Kept apart from the session and
 * memory phases: projects are few, and their rules read only the project and its owner.
 */
export async function purgeDeletedProjects(
  client: PoolClient,
  cutoff: string,
  { dryRun, batchSize }: Pick<RetentionPayload, 'dryRun' | 'batchSize'>,
  signal: AbortSignal,
): Promise<number> {
  if (dryRun) {
    const { rows } = await client.query<{ n: number }>(COUNT_PROJECTS, [cutoff, 2_147_483_647]);
    return rows[0]!.n;
  }
  let purged = 0;
  while (!signal.aborted) {
    await client.query(`begin; set local lock_timeout = '5s'; set local statement_timeout = '60s'`);
    try {
      const { rowCount } = await client.query(DELETE_PROJECTS, [cutoff, batchSize]);
      await client.query('commit');
      purged += rowCount ?? 0;
      if ((rowCount ?? 0) < batchSize) break;
    } catch (error) {
      await client.query('rollback');
      throw error;
    }
  }
  return purged;
}
