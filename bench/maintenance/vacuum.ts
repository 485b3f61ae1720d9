import type { MikroORM } from '@threadstore/db';
import type { JobContract } from '@threadstore/worker/jobs';
import type pg from 'pg';
import { runJob } from './jobs.ts';

export interface VacuumRun {
  seconds: number;
  /** From the job's receipt: the tables it chose, why, and their dead tuples before and after. */
  tables: {
    table: string;
    reason: string;
    outcome: string;
    deadTuplesBefore: number;
    deadTuplesAfter?: number;
    durationMs?: number;
  }[];
}

/**
 * The vacuum-analyze job with its default payload, so it picks the tables from the statistics
 * views as it would at night. A backend reports its deletions to those views up to a few seconds
 * after it goes idle, so this first waits (up to 20 s) until chat_messages shows `expectedDead`.
 */
export async function measureVacuum(
  job: JobContract,
  orm: MikroORM,
  client: pg.Client,
  expectedDead: number,
): Promise<VacuumRun> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const { rows } = await client.query<{ dead: string }>(
      `select n_dead_tup as dead from pg_stat_user_tables where relid = 'chat_messages'::regclass`,
    );
    if (Number(rows[0]!.dead) >= expectedDead) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const run = await runJob(job, orm, {});
  return { seconds: run.seconds, tables: (run.result.details as { tables: VacuumRun['tables'] }).tables };
}
