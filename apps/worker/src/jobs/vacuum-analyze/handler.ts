import type { PoolClient } from 'pg';
import type { JobContext, JobResult } from '../contract.ts';
import type { VacuumAnalyzePayload } from '@threadstore/jobs';

/**
 * Tables of the service's schema with the figures that decide whether they need a vacuum.
 * `qualified` is built by PostgreSQL's format('%I'), so it is the only form of a table name
 * that ever reaches a VACUUM statement: quoted, and taken from the catalog, never from input.
 */
const TABLE_STATISTICS = `
  select relname as name, format('%I.%I', schemaname, relname) as qualified,
         n_live_tup::float8 as live, n_dead_tup::float8 as dead, n_mod_since_analyze::float8 as modified
  from pg_stat_user_tables
  where schemaname = current_schema()
  order by relname`;

const DEAD_TUPLES = `select n_dead_tup::float8 as dead from pg_stat_user_tables where relid = $1::regclass`;

interface TableStatistics {
  name: string;
  qualified: string;
  live: number;
  dead: number;
  modified: number;
}

interface TableReceipt {
  table: string;
  reason: 'requested' | 'dead tuples' | 'modified since analyze';
  deadTuplesBefore: number;
  liveTuplesBefore: number;
  modifiedSinceAnalyzeBefore: number;
  outcome: 'vacuumed' | 'would vacuum' | 'skipped' | 'cancelled';
  deadTuplesAfter?: number;
  durationMs?: number;
  note?: string;
}

/**
 * VACUUM cannot run inside a transaction block, and the ORM's pool connections carry its
 * statement_timeout, which a long VACUUM would trip. So the job takes a connection of its own,
 * sets its timeouts for the session, and destroys it at the end instead of handing a connection
 * with changed settings back to the pool.
 */
export async function vacuumAnalyze({
  em,
  payload,
  signal,
  logger,
  reportProgress,
}: JobContext<VacuumAnalyzePayload>): Promise<JobResult> {
  const pool = await em.getConnection().getNativeClient();
  const client = await pool.connect();
  try {
    const statistics = (await client.query<TableStatistics>(TABLE_STATISTICS)).rows;
    const chosen = chooseTables(statistics, payload);
    const tables: TableReceipt[] = [];
    const details = () => ({
      dryRun: payload.dryRun,
      thresholds: {
        minDeadShare: payload.minDeadShare,
        minDeadTuples: payload.minDeadTuples,
        minModifiedSinceAnalyze: payload.minModifiedSinceAnalyze,
      },
      lockTimeoutMs: payload.lockTimeoutMs,
      considered: statistics.length,
      stoppedEarly: signal.aborted,
      tables,
    });
    if (payload.dryRun) {
      tables.push(
        ...chosen.map(({ table, reason }) => ({ ...before(table, reason), outcome: 'would vacuum' as const })),
      );
      return { rowsAffected: 0, details: details() };
    }

    // A lock held by a long transaction makes VACUUM wait for it; this bounds the wait per table.
    await client.query(`select set_config('lock_timeout', $1, false), set_config('statement_timeout', '0', false)`, [
      `${payload.lockTimeoutMs}ms`,
    ]);
    // pg-boss aborting the job must also stop the VACUUM in flight, which only the server can do.
    const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
    const cancel = () => {
      pool
        .query('select pg_cancel_backend($1)', [rows[0]!.pid])
        .catch((error: unknown) => logger.warn({ err: error }, 'could not cancel the running VACUUM'));
    };
    signal.addEventListener('abort', cancel, { once: true });
    try {
      for (const { table, reason } of chosen) {
        if (signal.aborted) break;
        tables.push(await vacuumOne(client, table, reason, payload.lockTimeoutMs, signal));
        await reportProgress(details());
      }
    } finally {
      signal.removeEventListener('abort', cancel);
    }
    const reclaimed = tables.reduce(
      (total, table) => total + Math.max(0, table.deadTuplesBefore - (table.deadTuplesAfter ?? table.deadTuplesBefore)),
      0,
    );
    return { rowsAffected: reclaimed, details: details() };
  } finally {
    client.release(true);
  }
}

async function vacuumOne(
  client: PoolClient,
  table: TableStatistics,
  reason: TableReceipt['reason'],
  lockTimeoutMs: number,
  signal: AbortSignal,
): Promise<TableReceipt> {
  const started = Date.now();
  let outcome: TableReceipt['outcome'] = 'vacuumed';
  let note: string | undefined;
  try {
    await client.query(`vacuum (analyze) ${table.qualified}`);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === '55P03') {
      outcome = 'skipped';
      note = `its lock was not granted within ${lockTimeoutMs} ms (another transaction holds it)`;
    } else if (signal.aborted) {
      outcome = 'cancelled';
      note = 'the job was aborted while VACUUM ran';
    } else {
      throw error;
    }
  }
  const { rows } = await client.query<{ dead: number }>(DEAD_TUPLES, [table.qualified]);
  return {
    ...before(table, reason),
    outcome,
    deadTuplesAfter: rows[0]?.dead ?? table.dead,
    durationMs: Date.now() - started,
    ...(note === undefined ? {} : { note }),
  };
}

function before(table: TableStatistics, reason: TableReceipt['reason']) {
  return {
    table: table.name,
    reason,
    deadTuplesBefore: table.dead,
    liveTuplesBefore: table.live,
    modifiedSinceAnalyzeBefore: table.modified,
  };
}

/** The requested tables (all of which must exist), or those whose statistics call for a vacuum. */
function chooseTables(
  statistics: TableStatistics[],
  { tables, minDeadShare, minDeadTuples, minModifiedSinceAnalyze }: VacuumAnalyzePayload,
): { table: TableStatistics; reason: TableReceipt['reason'] }[] {
  if (tables) {
    const byName = new Map(statistics.map((table) => [table.name, table]));
    const unknown = tables.filter((name) => !byName.has(name));
    if (unknown.length > 0) {
      throw new Error(`vacuum-analyze: no table named ${unknown.map((name) => `"${name}"`).join(', ')} in this schema`);
    }
    return [...new Set(tables)].map((name) => ({ table: byName.get(name)!, reason: 'requested' }));
  }
  return statistics.flatMap((table) => {
    const tuples = table.live + table.dead;
    const reason: TableReceipt['reason'] | undefined =
      table.dead >= minDeadTuples && tuples > 0 && table.dead / tuples >= minDeadShare
        ? 'dead tuples'
        : table.modified >= minModifiedSinceAnalyze
          ? 'modified since analyze'
          : undefined;
    return reason ? [{ table, reason }] : [];
  });
}
