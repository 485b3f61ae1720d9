import {
  MaintenanceRunSchema,
  raw,
  StatsSnapshotSchema,
  type EntityManager,
  type MaintenanceRun,
} from '@threadstore/db';
import * as z from 'zod';
import type { TMaintenanceRun, TStatsSnapshot } from '@threadstore/contract';
import { DomainError } from '../errors.ts';

const ZRunCursor = z.tuple([z.iso.datetime(), z.uuid()]);

/**
 * Recent job runs, newest first, by keyset on (started_at, id). Run ids cannot be the key alone:
 * the runner inserts receipts natively, so their ids come from the database's random UUIDs.
 */
export async function listMaintenanceRuns(
  em: EntityManager,
  { job, limit, cursor }: { job?: string; limit: number; cursor?: string },
): Promise<{ items: TMaintenanceRun[]; nextCursor: string | null }> {
  const query = em
    .createQueryBuilder(MaintenanceRunSchema, 'r')
    // The key travels as PostgreSQL's microsecond value: a JS Date would round it to milliseconds
    // and repeat or skip runs that started within the same millisecond.
    .select(['r.*', raw(`to_char(r.started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_key`)])
    .where(job === undefined ? {} : { job })
    .orderBy({ startedAt: 'desc', id: 'desc' })
    .limit(limit + 1);
  if (cursor !== undefined) {
    const [key, id] = decodeCursor(cursor);
    query.andWhere('(r.started_at, r.id) < (?::timestamptz, ?::uuid)', [key, id]);
  }
  const rows = await query.execute<({ cursor_key: string } & Record<string, unknown>)[]>('all', false);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(({ cursor_key: _, ...row }) => toRunDto(em.map(MaintenanceRunSchema, row))),
    nextCursor:
      rows.length > limit && last !== undefined
        ? Buffer.from(JSON.stringify([last.cursor_key, last.id])).toString('base64url')
        : null,
  };
}

function decodeCursor(cursor: string): [string, string] {
  try {
    return ZRunCursor.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString()));
  } catch {
    throw new DomainError('BAD_REQUEST', 'cursor is not one this listing gave');
  }
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
