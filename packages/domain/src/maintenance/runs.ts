import { MaintenanceRunSchema, StatsSnapshotSchema, type EntityManager, type MaintenanceRun } from '@threadstore/db';
import type { TMaintenanceRun, TStatsSnapshot } from '@threadstore/contract';
import { DomainError } from '../errors.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Recent job runs, newest first. Run ids are UUIDv7, which sort by creation time, so the id
 * alone is the keyset: the cursor is the last id of the previous page.
 */
export async function listMaintenanceRuns(
  em: EntityManager,
  { job, limit, cursor }: { job?: string; limit: number; cursor?: string },
): Promise<{ items: TMaintenanceRun[]; nextCursor: string | null }> {
  if (cursor !== undefined && !UUID.test(cursor))
    throw new DomainError('BAD_REQUEST', 'cursor is not one this listing gave');
  const rows = await em.find(
    MaintenanceRunSchema,
    { ...(job === undefined ? {} : { job }), ...(cursor === undefined ? {} : { id: { $lt: cursor } }) },
    { orderBy: { id: 'desc' }, limit: limit + 1 },
  );
  const page = rows.slice(0, limit);
  return {
    items: page.map(toRunDto),
    nextCursor: rows.length > limit ? page.at(-1)!.id : null,
  };
}

/** The most recent run of each job, for the job list. */
export async function lastRunsByJob(em: EntityManager): Promise<Map<string, TMaintenanceRun>> {
  // DISTINCT ON walks maintenance_runs_job_started_index once instead of one query per job.
  const rows: { id: string }[] = await em.execute(
    'select distinct on (job) id from maintenance_runs order by job, started_at desc',
  );
  const runs = await em.find(MaintenanceRunSchema, { id: { $in: rows.map((row) => row.id) } });
  return new Map(runs.map((run) => [run.job, toRunDto(run)]));
}

export async function latestStatsSnapshot(em: EntityManager): Promise<TStatsSnapshot | null> {
  const [snapshot = null] = await em.find(StatsSnapshotSchema, {}, { orderBy: { takenAt: 'desc' }, limit: 1 });
  return snapshot === null
    ? null
    : {
        id: snapshot.id,
        takenAt: snapshot.takenAt.toISOString(),
        database: snapshot.database,
        product: snapshot.product,
      };
}

function toRunDto(run: MaintenanceRun): TMaintenanceRun {
  return {
    id: run.id,
    job: run.job,
    queueJobId: run.queueJobId ?? null,
    dryRun: run.dryRun,
    outcome: run.outcome,
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt?.toISOString() ?? null,
    rowsAffected: run.rowsAffected,
    details: run.details,
    error: run.error ?? null,
  };
}
