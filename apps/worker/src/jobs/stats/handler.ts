import { StatsSnapshotSchema } from '@threadstore/db';
import type { PoolClient } from 'pg';
import type { JobContext, JobResult } from '../contract.ts';
import type { StatsPayload } from '@threadstore/jobs';

/*
 * The statistics views and the per-day aggregates are read with plain SQL that builds the JSON
 * itself: the ORM has no entities for pg_stat_*, and json_agg keeps timestamps as ISO strings and
 * money as exact decimal strings on their way into the snapshot's jsonb.
 */

/**
 * One snapshot of the figures, so they agree with one another. Sizes take a share lock on each
 * relation, so a table held by an exclusive lock would otherwise stall the whole snapshot.
 */
const BEGIN_SNAPSHOT = `begin isolation level repeatable read read only;
  set local lock_timeout = '5s'; set local statement_timeout = '60s'`;

const TAKEN_AT = `select to_json(now()) #>> '{}' as taken_at, pg_database_size(current_database()) as database_bytes`;

const TABLES = `
  select coalesce(json_agg(t order by t."totalBytes" desc, t."table"), '[]') as tables from (
    select c.relname as "table", c.reltuples::bigint as "rowEstimate", s.n_live_tup as "liveTuples",
           s.n_dead_tup as "deadTuples", pg_table_size(c.oid) as "tableBytes",
           pg_indexes_size(c.oid) as "indexBytes", pg_total_relation_size(c.oid) as "totalBytes",
           s.seq_scan as "seqScans", s.idx_scan as "indexScans", s.n_mod_since_analyze as "modifiedSinceAnalyze",
           greatest(s.last_vacuum, s.last_autovacuum) as "lastVacuum",
           greatest(s.last_analyze, s.last_autoanalyze) as "lastAnalyze"
    from pg_stat_user_tables s join pg_class c on c.oid = s.relid
    where s.schemaname = current_schema()
  ) t`;

/** An index never scanned since statistics were reset is a write cost with no reader. */
const INDEXES = `
  select coalesce(json_agg(i order by i."table", i."index"), '[]') as indexes from (
    select s.relname as "table", s.indexrelname as "index", s.idx_scan as scans, s.idx_tup_read as "tuplesRead",
           pg_relation_size(s.indexrelid) as bytes
    from pg_stat_user_indexes s
    where s.schemaname = current_schema()
  ) i`;

const CONNECTIONS = `
  select json_build_object(
    'max', current_setting('max_connections')::int,
    'byState', coalesce((
      select json_object_agg(state, count)
      from (
        select coalesce(state, 'unknown') as state, count(*) as count
        from pg_stat_activity
        where datname = current_database() and backend_type = 'client backend'
        group by 1
      ) by_state
    ), '{}')
  ) as connections`;

const STATEMENTS_EXTENSION = `
  select format('%I.pg_stat_statements', n.nspname) as view
  from pg_extension e join pg_namespace n on n.oid = e.extnamespace
  where e.extname = 'pg_stat_statements'`;

/** `view` comes from format('%I') over the catalog, never from input. */
const topStatements = (view: string) => `
  select coalesce(json_agg(t), '[]') as statements from (
    select queryid::text as "queryId", left(query, 1000) as query, calls, rows,
           round(total_exec_time::numeric, 3) as "totalMs", round(mean_exec_time::numeric, 3) as "meanMs"
    from ${view}
    where dbid = (select oid from pg_database where datname = current_database())
    order by total_exec_time desc
    limit $1
  ) t`;

/**
 * Product figures per UTC day over the last $1 days, today included, with every day present.
 * Messages are found through the BRIN index on chat_messages.created_at. An active user (or
 * anonymous visitor) is the owner of a session that got a message that day. `feedback` counts
 * the ratings (messages.rate) given or changed in the window, in all, per model and for the 100
 * most rated sessions.
 */
const PRODUCT = `
  with bounds as (
    select (date_trunc('day', now() at time zone 'UTC') - make_interval(days => $1 - 1)) at time zone 'UTC' as since
  ),
  messages as (
    select (m.created_at at time zone 'UTC')::date as day, m.model, m.prompt_tokens, m.completion_tokens, m.cost,
           s.user_id, s.anonymous_id
    from chat_messages m join chat_sessions s on s.id = m.session_id
    where m.created_at >= (select since from bounds)
  ),
  per_day as (
    select day::date from bounds, generate_series(since at time zone 'UTC', now() at time zone 'UTC', '1 day') day
  ),
  messages_per_day as (
    select day, count(*) as messages, count(distinct user_id) as users, count(distinct anonymous_id) as anonymous,
           sum(prompt_tokens) as prompt_tokens, sum(completion_tokens) as completion_tokens, sum(cost) as cost
    from messages group by day
  ),
  sessions_per_day as (
    select (created_at at time zone 'UTC')::date as day, count(*) as sessions
    from chat_sessions where created_at >= (select since from bounds) group by 1
  ),
  per_day_and_model as (
    select day, model, count(*) as messages, sum(prompt_tokens) as prompt_tokens,
           sum(completion_tokens) as completion_tokens, sum(cost) as cost
    from messages group by day, model
  ),
  ratings as (
    -- Ratings as they stand, given or changed within the window (by the updated_at index); the
    -- model is the rated message's. A rating of a message purged since has no model any more.
    select r.session_id, r.value, m.model
    from message_ratings r left join chat_messages m on m.id = r.message_id
    where r.updated_at >= (select since from bounds)
  ),
  ratings_per_session as (
    select session_id, count(*) filter (where value = 'up') as up, count(*) filter (where value = 'down') as down
    from ratings group by session_id
  )
  select json_build_object(
    'windowDays', $1::int,
    'since', (select since from bounds),
    'totals', (
      select json_build_object(
        'sessionsCreated', (select coalesce(sum(sessions), 0) from sessions_per_day),
        'messagesCreated', count(*),
        'activeUsers', count(distinct user_id),
        'activeAnonymous', count(distinct anonymous_id),
        'promptTokens', coalesce(sum(prompt_tokens), 0),
        'completionTokens', coalesce(sum(completion_tokens), 0),
        'cost', coalesce(sum(cost), 0::numeric(20, 10))::text
      ) from messages
    ),
    'days', (
      select json_agg(json_build_object(
        'day', p.day,
        'sessionsCreated', coalesce(s.sessions, 0),
        'messagesCreated', coalesce(m.messages, 0),
        'activeUsers', coalesce(m.users, 0),
        'activeAnonymous', coalesce(m.anonymous, 0),
        'promptTokens', coalesce(m.prompt_tokens, 0),
        'completionTokens', coalesce(m.completion_tokens, 0),
        'cost', coalesce(m.cost, 0::numeric(20, 10))::text
      ) order by p.day)
      from per_day p left join messages_per_day m using (day) left join sessions_per_day s using (day)
    ),
    'byDayAndModel', (
      select coalesce(json_agg(json_build_object(
        'day', g.day, 'model', g.model, 'messages', g.messages,
        'promptTokens', coalesce(g.prompt_tokens, 0), 'completionTokens', coalesce(g.completion_tokens, 0),
        'cost', coalesce(g.cost, 0::numeric(20, 10))::text
      ) order by g.day, g.model nulls first), '[]')
      from per_day_and_model g
    ),
    'feedback', json_build_object(
      'up', (select count(*) from ratings where value = 'up'),
      'down', (select count(*) from ratings where value = 'down'),
      'byModel', (
        select coalesce(json_agg(json_build_object('model', f.model, 'up', f.up, 'down', f.down)
                                 order by f.model nulls first), '[]')
        from (select model, count(*) filter (where value = 'up') as up, count(*) filter (where value = 'down') as down
              from ratings group by model) f
      ),
      -- The most rated sessions only: a figure per session of every session would grow without bound.
      'bySession', (
        select coalesce(json_agg(json_build_object('sessionId', f.session_id, 'up', f.up, 'down', f.down)
                                 order by f.up + f.down desc, f.session_id), '[]')
        from (select * from ratings_per_session order by up + down desc, session_id limit 100) f
      )
    )
  ) as product`;

/** Writes one row to stats_snapshots and deletes those older than `keepSnapshotsDays`. */
export async function takeStatsSnapshot({ em, payload }: JobContext<StatsPayload>): Promise<JobResult> {
  const pool = await em.getConnection().getNativeClient();
  const client = await pool.connect();
  let figures: Awaited<ReturnType<typeof readFigures>>;
  let broken: Error | undefined;
  try {
    await client.query(BEGIN_SNAPSHOT);
    figures = await readFigures(client, payload);
    await client.query('commit');
  } catch (error) {
    broken = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    // A connection left in a failed transaction is destroyed rather than handed back to the pool.
    client.release(broken);
  }

  const takenAt = new Date(figures.takenAt);
  const snapshotId = await em.insert(StatsSnapshotSchema, {
    takenAt,
    database: figures.database,
    product: figures.product,
  });
  const pruned = await em.nativeDelete(StatsSnapshotSchema, {
    takenAt: { $lt: new Date(takenAt.getTime() - payload.keepSnapshotsDays * 86_400_000) },
  });
  return {
    rowsAffected: 1 + pruned,
    details: {
      snapshotId,
      takenAt: figures.takenAt,
      tables: (figures.database.tables as unknown[]).length,
      statements: figures.database.statements,
      pruned,
    },
  };
}

async function readFigures(client: PoolClient, payload: StatsPayload) {
  const one = async <Row>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows[0] as Row;
  const clock = await one<{ taken_at: string; database_bytes: string }>(TAKEN_AT);
  const { tables } = await one<{ tables: unknown[] }>(TABLES);
  const { indexes } = await one<{ indexes: unknown[] }>(INDEXES);
  const { connections } = await one<{ connections: Record<string, unknown> }>(CONNECTIONS);
  const { product } = await one<{ product: Record<string, unknown> }>(PRODUCT, [payload.windowDays]);
  return {
    takenAt: clock.taken_at,
    database: {
      databaseBytes: Number(clock.database_bytes),
      tables,
      indexes,
      connections,
      statements: await readTopStatements(client, payload.topStatements),
    },
    product,
  };
}

/**
 * The costliest statements, or a note saying why there are none: the extension is optional, and
 * a server without it (or without it preloaded) is a normal setup, not a failure of the job.
 */
async function readTopStatements(client: PoolClient, limit: number): Promise<Record<string, unknown>> {
  const { rows } = await client.query<{ view: string }>(STATEMENTS_EXTENSION);
  if (rows.length === 0) {
    return {
      available: false,
      note: 'pg_stat_statements is not installed in this database (CREATE EXTENSION pg_stat_statements, with the library in shared_preload_libraries)',
    };
  }
  // A failed read would abort the snapshot's transaction; the savepoint confines it to this section.
  await client.query('savepoint top_statements');
  try {
    const { rows: top } = await client.query<{ statements: unknown[] }>(topStatements(rows[0]!.view), [limit]);
    await client.query('release savepoint top_statements');
    return { available: true, top: top[0]!.statements };
  } catch (error) {
    await client.query('rollback to savepoint top_statements');
    return {
      available: false,
      note: `pg_stat_statements is installed but could not be read: ${(error as Error).message}`,
    };
  }
}
