import type { RetentionScope, RetentionTarget } from '@threadstore/db';
import type { PoolClient, QueryResultRow } from 'pg';
import type { JobContext, JobResult } from '../contract.ts';
import type { RetentionPayload } from '@threadstore/jobs';
import { purgeDeletedProjects } from './projects.ts';
import { applyPreview } from './preview.ts';

/**
 * Retention deletes in bulk, by policy, across every owner, so it is plain SQL on one pooled
 * connection: the ORM would load each row it deletes into an identity map, and cannot express
 * `FOR UPDATE SKIP LOCKED`, heap-range scans or per-batch lock timeouts.
 *
 * Rules (the policies live in `retention_policies`):
 * - The governing policy of a row is its project's, else its user's, else the global one, per
 *   target. A project's policy is a decision about everything in that project, so it wins over
 *   the user's own. A target no policy covers is never deleted.
 * - A legal hold (user or project, target `all`) exempts that user's or project's rows from every
 *   target. Memories belong to a user only, so only a user's hold covers them.
 * - A session is judged as a whole, by its last activity (user sessions: `inactive_sessions`;
 *   never-claimed anonymous ones: `anonymous_sessions`), else by its soft-delete grace period
 *   (`soft_deleted`). The first rule that matches names the target it is counted under, so a
 *   session already past its inactivity limit goes even if it was soft-deleted yesterday. A
 *   session still active keeps all of its messages, however old.
 * - Soft-deleted messages of surviving sessions go after the `soft_deleted` grace period;
 *   short-term and episodic memories go `keep_for_days` after they were created.
 *
 * Every rule compares with one `now()` read at the start, so a run's set is fixed, and a dry run
 * evaluates the very same SQL predicates, which is what makes its counts those of a real run.
 */

type PurgeTarget = Exclude<RetentionTarget, 'all'>;

const PURGE_TARGETS: readonly PurgeTarget[] = [
  'inactive_sessions',
  'anonymous_sessions',
  'soft_deleted',
  'short_term_memories',
  'episodic_memories',
];

/**
 * Each batch waits 5 s at most for a row lock, so it never queues behind a long transaction; and
 * a batch is a few thousand rows, so one running for a minute is stuck, not busy.
 *
 * A batch commits synchronously, flushing its own WAL. A synchronous commit flushes every WAL
 * record written before its own, so batches committed with `synchronous_commit = off` (as they
 * were) left their WAL, megabytes of full-page images, for the API's next append to flush: its
 * p99 was 5.7–9.2× its p99 without retention on the benchmark's data. Flushed batch by batch,
 * and small (TARGET_BATCH_MS), at most one batch's WAL is ever ahead of an API commit: median
 * 1.79× over five rounds, 1.52–10.7× (bench/results/retention-commit-2026-12-08.md and
 * retention-full-2026-12-08.md). Each batch is durable on its own, so a receipt never counts a
 * batch that a crash could undo.
 */
const BEGIN_BATCH = `begin; set local lock_timeout = '5s'; set local statement_timeout = '60s'`;
/**
 * The `wal_compression` methods a run may use for its batches, fastest first. Not pglz: it saved
 * 11–12% of the WAL at 2.7–7 times the run's time (bench/results/retention-2026-12-07-1m.md).
 */
const WAL_COMPRESSIONS = ['lz4', 'zstd'] as const;
type WalCompression = (typeof WAL_COMPRESSIONS)[number];
/**
 * Rows per heap page assumed for a table PostgreSQL has not analyzed yet. Erring dense keeps a
 * heap slice near the batch size: no row of these tables fits more than about this many per page.
 */
const DENSE_ROWS_PER_PAGE = 100;
/**
 * What a sweep batch aims to take. A batch's WAL (mostly the full images of the pages it dirties)
 * is flushed at its commit, and an API commit that comes meanwhile waits for that flush: about
 * 10 ms of work at a time (a megabyte of WAL or so) keeps that wait short. Batches of 50 ms, each
 * flushing its own WAL, left the API's p99 at 7.6×/4.1× (append/history, one round) of its p99
 * without retention; of 10 ms, a median of 1.79×/1.53× over five rounds. The price is time:
 * 63–147 s per 1M expired messages at the default pause, against 51–68 s for asynchronous 50 ms
 * batches.
 */
const TARGET_BATCH_MS = 10;
/** No slice is larger than this (8 MiB of heap), however fast the batches go. */
const MAX_SLICE_PAGES = 1_024;
/**
 * Sessions deleted per transaction once swept. Each costs a probe of the session_id index per
 * message it had (the foreign key's cascade finds their dead index entries), about 400 on
 * average, so a batch of 50 is a few tens of milliseconds.
 */
const DROP_SESSIONS_PER_BATCH = 50;

/** Every statement below takes the run's cutoff as $1. */
const CUTOFF = '$1::timestamptz';

/*
 * The fragments below are interpolated only with column references and literals written in this
 * module, never with input.
 */

/** The governing policy of `target` for a row of `user` / `project`: project over user over global. */
export function governingPolicy(target: string, user: string | null, project: string | null): string {
  const subjects = [`p.scope = 'global'`];
  if (user) subjects.push(`(p.scope = 'user' and p.user_id = ${user})`);
  if (project) subjects.push(`(p.scope = 'project' and p.project_id = ${project})`);
  return `
    select p.target, p.id as policy_id, p.scope as policy_scope, p.keep_for_days
    from retention_policies p
    where p.target = ${target} and not p.legal_hold and (${subjects.join(' or ')})
    order by case p.scope when 'project' then 0 when 'user' then 1 else 2 end
    limit 1`;
}

export function underLegalHold(user: string | null, project: string | null): string {
  const subjects = [
    ...(user ? [`(h.scope = 'user' and h.user_id = ${user})`] : []),
    ...(project ? [`(h.scope = 'project' and h.project_id = ${project})`] : []),
  ];
  return `exists (select 1 from retention_policies h where h.legal_hold and (${subjects.join(' or ')}))`;
}

const olderThanPolicy = (column: string) => `${column} < ${CUTOFF} - make_interval(days => g.keep_for_days)`;

/** The target and policy under which session `s` has expired, or no row while it is kept. */
const SESSION_EXPIRY = `
  select e.target, e.policy_id, e.policy_scope, e.keep_for_days
  from (
    select 1 as rank, g.* from (${governingPolicy(`'inactive_sessions'`, 's.user_id', 's.project_id')}) g
    where s.user_id is not null and ${olderThanPolicy('s.last_activity_at')}
    union all
    select 2, g.* from (${governingPolicy(`'anonymous_sessions'`, null, 's.project_id')}) g
    where s.anonymous_id is not null and ${olderThanPolicy('s.last_activity_at')}
    union all
    select 3, g.* from (${governingPolicy(`'soft_deleted'`, 's.user_id', 's.project_id')}) g
    where ${olderThanPolicy('s.deleted_at')}
  ) e
  where not ${underLegalHold('s.user_id', 's.project_id')}
  order by e.rank
  limit 1`;

/** The last id of the window of $2 sessions after $1 (by id); null when fewer remain. */
const SESSION_WINDOW_END = `
  select id from chat_sessions where ($1::uuid is null or id > $1) order by id offset $2 - 1 limit 1`;

/** Expired sessions in the window ($2, $3], read without locks to plan the batches. */
const EXPIRED_SESSIONS_IN_WINDOW = `
  select s.id, s.last_seq, e.*
  from chat_sessions s cross join lateral (${SESSION_EXPIRY}) e
  where ($2::uuid is null or s.id > $2) and ($3::uuid is null or s.id <= $3)
  order by s.id`;

/**
 * Locks the sessions of $2 that are still expired: the planning read above took no locks, and
 * in between a session may have been written to. One being written right now is skipped (the
 * next run sees it), so retention never waits on a live conversation.
 */
const LOCK_EXPIRED_SESSIONS = `
  select s.id, e.*
  from chat_sessions s cross join lateral (${SESSION_EXPIRY}) e
  where s.id = any($2::uuid[])
  order by s.id
  for update of s skip locked`;

const COUNT_MESSAGES_OF_SESSIONS = `
  select session_id, count(*)::int as messages from chat_messages where session_id = any($1::uuid[]) group by 1`;

/**
 * The sessions a run deletes, with the policy each expired under: filled while they are hidden,
 * read by every slice of the heap sweeps (a hash join), dropped with the connection. Temporary,
 * so it writes no WAL; a run killed half-way loses it, and the next run finds the same sessions
 * again (hidden sessions still match their expiry rule).
 */
const CREATE_DOOMED = `
  create temporary table if not exists retention_doomed (
    id uuid primary key, target text not null, policy_id uuid not null, policy_scope text not null,
    keep_for_days int not null, remaining int not null, dropped boolean not null default false
  )`;
const CLEAR_DOOMED = `truncate pg_temp.retention_doomed`;
const ANALYZE_DOOMED = `analyze pg_temp.retention_doomed`;

/**
 * Hides the expired sessions locked by LOCK_EXPIRED_SESSIONS the way a user's delete does, before
 * any of their messages goes: their messages are deleted over the whole sweep, so from now on
 * nobody reads or appends to a half-emptied conversation; the version bump makes a concurrent ORM
 * update of one a CONFLICT. A hidden session still matches its expiry rule (inactivity is judged
 * before the soft-delete grace), so a run killed half-way leaves it to the next one, which
 * finishes it.
 */
const HIDE_SESSIONS = `
  update chat_sessions set deleted_at = now(), version = version + 1 where id = any($1::uuid[]) and deleted_at is null`;

/**
 * Remembers the hidden sessions with their number of messages (an index-only count where the
 * visibility map allows), which the sweep counts down: a session whose last message it has just
 * deleted is deleted in the same batch, while its pages are still in the buffer cache (the
 * foreign key's cascade probes the session_id index, and each dead entry's heap page).
 */
const REMEMBER_DOOMED = `
  insert into pg_temp.retention_doomed (id, target, policy_id, policy_scope, keep_for_days, remaining)
  select d.*, (select count(*) from chat_messages m where m.session_id = d.id)
  from unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::int[]) as d(id, target, policy_id, policy_scope, keep_for_days)`;

/**
 * The messages of hidden sessions in the heap pages [$1, $2), with the entries still queued for
 * search indexing. Walking the heap in physical order dirties each page once for all the expired
 * sessions whose rows it holds, where deleting session by session (through the session_id index)
 * dirtied a page once per session on it, each time in a different transaction, and after every
 * checkpoint in between wrote the whole page to the WAL again (98% of retention's WAL was such
 * full-page images). Counted per governing policy for the receipt.
 */
const SWEEP_MESSAGES = `
  with gone as (
    delete from chat_messages m using pg_temp.retention_doomed d
     where m.ctid >= $1::tid and m.ctid < $2::tid and m.session_id = d.id
    returning m.id, m.session_id, d.target, d.policy_id, d.policy_scope, d.keep_for_days
  ),
  unqueued as (delete from chat_message_search_queue q using gone where q.message_id = gone.id),
  tallied as (
    update pg_temp.retention_doomed d set remaining = d.remaining - g.n
      from (select session_id, count(*)::int as n from gone group by 1) g
     where d.id = g.session_id
    returning d.id, d.remaining
  )
  select target, policy_id, policy_scope, keep_for_days, count(*)::int as rows,
         (select coalesce(array_agg(id), '{}') from tallied where remaining <= 0) as emptied
  from gone group by 1, 2, 3, 4`;

/**
 * A session the sweep has emptied: any message of its the sweep could not meet (one moved by an
 * update behind it) goes by the session_id index, counted, before the session itself. Its search
 * entries are left to the search sweep, which still has it (marked dropped).
 */
const DELETE_STRAGGLERS = `
  with gone as (delete from chat_messages where session_id = any($1::uuid[]) returning session_id)
  select session_id, count(*)::int as messages from gone group by 1`;
const MARK_DROPPED = `update pg_temp.retention_doomed set dropped = true where id = any($1::uuid[])`;

/** The search entries of hidden sessions in the heap pages [$1, $2) of chat_message_search (no FK). */
const SWEEP_SEARCH = `
  delete from chat_message_search x using pg_temp.retention_doomed d
   where x.ctid >= $1::tid and x.ctid < $2::tid and x.session_id = d.id`;

/**
 * The last step for swept sessions: anything of theirs the sweep did not meet (a row moved behind
 * the sweep by an update while it ran) goes by the session_id indexes, counted like the rest,
 * then the sessions themselves (their earlier message versions, ratings and shares by cascade).
 */
const DELETE_MESSAGES_OF_SESSIONS = `
  with gone as (delete from chat_messages where session_id = any($1::uuid[]) returning session_id),
  unindexed as (delete from chat_message_search where session_id = any($1::uuid[]))
  select session_id, count(*)::int as messages from gone group by 1`;

const DELETE_SESSIONS = `delete from chat_sessions where id = any($1::uuid[])`;

/**
 * Soft-deleted messages past the grace period of their session's policy in the heap pages
 * [$2, $3). Those of a session that expires as a whole are left to it and counted under its target.
 */
const EXPIRED_SOFT_DELETED_MESSAGES = `
  select m.id, g.*
  from chat_messages m
  join chat_sessions s on s.id = m.session_id
  cross join lateral (${governingPolicy(`'soft_deleted'`, 's.user_id', 's.project_id')}) g
  where m.ctid >= $2::tid and m.ctid < $3::tid
    and m.deleted_at is not null
    and ${olderThanPolicy('m.deleted_at')}
    and not ${underLegalHold('s.user_id', 's.project_id')}
    and not exists (${SESSION_EXPIRY})`;

const MEMORY_TARGET = `case mem.kind when 'short_term' then 'short_term_memories' when 'episodic' then 'episodic_memories' end`;

/** Short-term and episodic memories past their policy's age in the heap pages [$2, $3). */
const EXPIRED_MEMORIES = `
  select mem.id, g.*
  from memories mem
  cross join lateral (${governingPolicy(MEMORY_TARGET, 'mem.user_id', null)}) g
  where mem.ctid >= $2::tid and mem.ctid < $3::tid
    and mem.kind in ('short_term', 'episodic')
    and ${olderThanPolicy('mem.created_at')}
    and not ${underLegalHold('mem.user_id', null)}`;

const countByPolicy = (doomed: string) => `
  with doomed as (${doomed})
  select target, policy_id, policy_scope, keep_for_days, count(*)::int as rows
  from doomed group by 1, 2, 3, 4`;

const deleteByPolicy = (table: HeapTable, doomed: string) => `
  with doomed as (${doomed}),
  gone as (delete from ${table} t using doomed d where t.id = d.id returning d.*)${
    table === 'chat_messages'
      ? `,
  unindexed as (delete from chat_message_search x using gone where x.message_id = gone.id),
  unqueued as (delete from chat_message_search_queue q using gone where q.message_id = gone.id),
  unrated as (delete from message_ratings r using gone where r.message_id = gone.id),
  unversioned as (delete from chat_message_versions v using gone where v.message_id = gone.id)`
      : ''
  }
  select target, policy_id, policy_scope, keep_for_days, count(*)::int as rows
  from gone group by 1, 2, 3, 4`;

/**
 * The table's size in pages now (rows added later are younger than the cutoff) and its rows per
 * page from the last ANALYZE, which turns a batch size in rows into a slice of pages.
 */
const HEAP_GEOMETRY = `
  select (pg_relation_size(c.oid) / current_setting('block_size')::int)::int as pages,
         case when c.relpages > 0 and c.reltuples > 0 then c.reltuples / c.relpages end as rows_per_page
  from pg_class c where c.oid = $1::regclass`;

type HeapTable = 'chat_messages' | 'memories' | 'chat_message_search';

interface Policy {
  target: PurgeTarget;
  policy_id: string;
  policy_scope: RetentionScope;
  keep_for_days: number;
}

interface Tally {
  sessions: number;
  messages: number;
  memories: number;
}

/** Rows one batch deleted (or counted) under one policy. */
type Counted = { policy: Policy } & Partial<Tally>;

/** What was deleted (or, in a dry run, would be) per target and per governing policy. */
class Receipt {
  readonly #byTarget = new Map<PurgeTarget, Map<string, { policy: Policy; tally: Tally }>>();

  add(policy: Policy, counts: Partial<Tally>): void {
    let policies = this.#byTarget.get(policy.target);
    if (!policies) this.#byTarget.set(policy.target, (policies = new Map()));
    let entry = policies.get(policy.policy_id);
    if (!entry) policies.set(policy.policy_id, (entry = { policy, tally: { sessions: 0, messages: 0, memories: 0 } }));
    entry.tally.sessions += counts.sessions ?? 0;
    entry.tally.messages += counts.messages ?? 0;
    entry.tally.memories += counts.memories ?? 0;
  }

  get rows(): number {
    let total = 0;
    for (const policies of this.#byTarget.values()) {
      for (const { tally } of policies.values()) total += tally.sessions + tally.messages + tally.memories;
    }
    return total;
  }

  toJSON() {
    return Object.fromEntries(
      PURGE_TARGETS.map((target) => {
        const entries = [...(this.#byTarget.get(target)?.values() ?? [])].sort((a, b) =>
          a.policy.policy_id.localeCompare(b.policy.policy_id),
        );
        const sum = (key: keyof Tally) => entries.reduce((total, { tally }) => total + tally[key], 0);
        return [
          target,
          {
            sessions: sum('sessions'),
            messages: sum('messages'),
            memories: sum('memories'),
            policies: entries.map(({ policy, tally }) => ({
              policyId: policy.policy_id,
              scope: policy.policy_scope,
              keepForDays: policy.keep_for_days,
              ...tally,
            })),
          },
        ];
      }),
    );
  }
}

type Phase = 'sessions' | 'sweep_messages' | 'sweep_search' | 'drop_sessions' | 'soft_deleted_messages' | 'memories';

/** Deletes (or counts) everything expired as of `now()`, in short batches. */
export async function purgeExpired({
  em,
  payload,
  signal,
  logger,
  reportProgress,
}: JobContext<RetentionPayload>): Promise<JobResult> {
  const pool = await em.getConnection().getNativeClient();
  const client = await pool.connect();
  let broken: Error | undefined;
  const previewing = payload.dryRun && payload.preview.length > 0;
  try {
    if (previewing) await applyPreview(client, payload.preview);
    const { rows } = await client.query<{ cutoff: string }>(`select to_json(now()) #>> '{}' as cutoff`);
    // Only a real run writes; a dry run may also be inside a preview's transaction, which a refused `set` would abort.
    const walCompression =
      payload.walCompression === 'auto' && !payload.dryRun ? await usableWalCompression(client) : null;
    const purge = new Purge(client, rows[0]!.cutoff, payload, walCompression, { signal, logger, reportProgress });
    if (payload.dryRun) {
      await purge.countSessions();
      await purge.heap('soft_deleted_messages', 'chat_messages', EXPIRED_SOFT_DELETED_MESSAGES);
    } else {
      await purge.hideExpiredSessions();
      await purge.sweepMessages();
      await purge.sweepSearch();
      await purge.dropSessions();
    }
    await purge.heap('memories', 'memories', EXPIRED_MEMORIES);
    const projects = await purgeDeletedProjects(client, rows[0]!.cutoff, payload, signal);
    return { rowsAffected: purge.receipt.rows + projects, details: { ...purge.details(), deletedProjects: projects } };
  } catch (error) {
    broken = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    if (previewing) await client.query('rollback').catch(() => undefined);
    // A connection that failed mid-run may be in any state; the pool replaces it instead of reusing it.
    client.release(broken);
  }
}

/**
 * The first of WAL_COMPRESSIONS this server accepts and this role may set, or null. Tried rather
 * than looked up: whether a role may set the parameter depends on the server's version, grants
 * and superuser status, and `set` answers all three. Left reset on the connection.
 */
async function usableWalCompression(client: PoolClient): Promise<WalCompression | null> {
  for (const method of WAL_COMPRESSIONS) {
    try {
      await client.query(`set wal_compression = ${method}`);
      await client.query('reset wal_compression');
      return method;
    } catch {
      // Not built in, or not this role's to set: try the next, then go without.
    }
  }
  return null;
}

class Purge {
  readonly receipt = new Receipt();
  readonly #client: PoolClient;
  readonly #cutoff: string;
  readonly #payload: RetentionPayload;
  /** Set for each batch's own transaction (see usableWalCompression). */
  readonly #beginBatch: string;
  readonly #walCompression: WalCompression | null;
  readonly #context: Pick<JobContext<RetentionPayload>, 'signal' | 'logger' | 'reportProgress'>;
  #batches = 0;
  #lockConflicts = 0;
  /** Sessions hidden by this run, to be swept and deleted. */
  #doomed = 0;
  #phase: Phase = 'sessions';

  constructor(
    client: PoolClient,
    cutoff: string,
    payload: RetentionPayload,
    walCompression: WalCompression | null,
    context: Pick<JobContext<RetentionPayload>, 'signal' | 'logger' | 'reportProgress'>,
  ) {
    this.#client = client;
    this.#cutoff = cutoff;
    this.#payload = payload;
    this.#walCompression = walCompression;
    // The method is one of WAL_COMPRESSIONS, never input.
    this.#beginBatch =
      walCompression === null ? BEGIN_BATCH : `${BEGIN_BATCH}; set local wal_compression = ${walCompression}`;
    this.#context = context;
  }

  details(): Record<string, unknown> {
    return {
      dryRun: this.#payload.dryRun,
      cutoff: this.#cutoff,
      batchSize: this.#payload.batchSize,
      pause: this.#payload.pause,
      walCompression: this.#walCompression ?? 'off',
      batches: this.#batches,
      lockConflicts: this.#lockConflicts,
      stoppedEarly: this.#context.signal.aborted,
      targets: this.receipt.toJSON(),
    };
  }

  /** Walks the sessions by id, a window of `batchSize` at a time, counting the expired ones (dry run). */
  async countSessions(): Promise<void> {
    this.#phase = 'sessions';
    await this.#sessionWindows(async (expired) => {
      const messages = await this.#rows<{ session_id: string; messages: number }>(COUNT_MESSAGES_OF_SESSIONS, [
        expired.map((session) => session.id),
      ]);
      const messagesOf = new Map(messages.map((row) => [row.session_id, row.messages]));
      await this.#record(
        expired.map((session) => ({ policy: session, sessions: 1, messages: messagesOf.get(session.id) ?? 0 })),
      );
    });
  }

  /**
   * Walks the sessions by id, a window of `batchSize` at a time: locks the expired ones (skipping
   * any in use), hides them and remembers them (with the policy each expired under) for the sweeps.
   * Hiding writes one small row per session; nothing is deleted yet.
   */
  async hideExpiredSessions(): Promise<void> {
    this.#phase = 'sessions';
    await this.#client.query(CREATE_DOOMED);
    await this.#client.query(CLEAR_DOOMED);
    await this.#sessionWindows(async (expired) => {
      if (expired.length === 0) return;
      await this.#batch(async () => {
        const locked = await this.#rows<Policy & { id: string }>(LOCK_EXPIRED_SESSIONS, [
          this.#cutoff,
          expired.map((session) => session.id),
        ]);
        if (locked.length === 0) return [];
        const ids = locked.map((session) => session.id);
        await this.#client.query(HIDE_SESSIONS, [ids]);
        await this.#client.query(REMEMBER_DOOMED, [
          ids,
          locked.map((session) => session.target),
          locked.map((session) => session.policy_id),
          locked.map((session) => session.policy_scope),
          locked.map((session) => session.keep_for_days),
        ]);
        this.#doomed += locked.length;
        return [];
      });
    });
    await this.#client.query(ANALYZE_DOOMED);
  }

  async #sessionWindows(each: (expired: (Policy & { id: string })[]) => Promise<void>): Promise<void> {
    const { batchSize } = this.#payload;
    let after: string | null = null;
    while (!this.#context.signal.aborted) {
      const [end]: { id: string }[] = await this.#rows(SESSION_WINDOW_END, [after, batchSize]);
      const windowEnd: string | null = end?.id ?? null;
      await each(
        await this.#rows<Policy & { id: string }>(EXPIRED_SESSIONS_IN_WINDOW, [this.#cutoff, after, windowEnd]),
      );
      if (windowEnd === null) return;
      after = windowEnd;
    }
  }

  /**
   * One pass over chat_messages in physical order: each slice deletes the messages of the hidden
   * sessions and the expired soft-deleted messages of surviving sessions in the same transaction,
   * so a heap page is dirtied (and written to the WAL in full after a checkpoint) once per run.
   */
  async sweepMessages(): Promise<void> {
    this.#phase = 'sweep_messages';
    const doomed = this.#doomed > 0;
    await this.#sweep('chat_messages', async (from, to) => {
      const counts: Counted[] = [];
      const toCounts = (rows: (Policy & { rows: number })[]) =>
        rows.map((row) => ({ policy: row, messages: row.rows }));
      if (doomed) {
        const swept = await this.#rows<Policy & { rows: number; emptied: string[] }>(SWEEP_MESSAGES, [from, to]);
        counts.push(...toCounts(swept));
        const emptied = swept[0]?.emptied ?? [];
        if (emptied.length > 0) counts.push(...(await this.#dropEmptied(emptied)));
      }
      counts.push(
        ...toCounts(
          await this.#rows(deleteByPolicy('chat_messages', EXPIRED_SOFT_DELETED_MESSAGES), [this.#cutoff, from, to]),
        ),
      );
      return counts;
    });
  }

  /** Deletes sessions the sweep has just emptied, in its batch; counts them and any stragglers. */
  async #dropEmptied(ids: string[]): Promise<Counted[]> {
    const locked = await this.#rows<Policy & { id: string }>(LOCK_EXPIRED_SESSIONS, [this.#cutoff, ids]);
    if (locked.length === 0) return [];
    const lockedIds = locked.map((session) => session.id);
    const stragglers = await this.#rows<{ session_id: string; messages: number }>(DELETE_STRAGGLERS, [lockedIds]);
    await this.#client.query(DELETE_SESSIONS, [lockedIds]);
    await this.#client.query(MARK_DROPPED, [lockedIds]);
    const messagesOf = new Map(stragglers.map((row) => [row.session_id, row.messages]));
    const policyOf = new Map(
      (
        await this.#rows<Policy & { id: string }>(
          `select id, target, policy_id, policy_scope, keep_for_days from pg_temp.retention_doomed where id = any($1::uuid[])`,
          [lockedIds],
        )
      ).map((session) => [session.id, session]),
    );
    return lockedIds.map((id) => ({ policy: policyOf.get(id)!, sessions: 1, messages: messagesOf.get(id) ?? 0 }));
  }

  /** The same pass over chat_message_search for the hidden sessions' entries. */
  async sweepSearch(): Promise<void> {
    if (this.#doomed === 0) return;
    this.#phase = 'sweep_search';
    await this.#sweep('chat_message_search', async (from, to) => {
      await this.#client.query(SWEEP_SEARCH, [from, to]);
      return [];
    });
  }

  /** Deletes the swept sessions, a batch of them per transaction, counting them (and any stragglers). */
  async dropSessions(): Promise<void> {
    if (this.#doomed === 0) return;
    this.#phase = 'drop_sessions';
    const { batchSize } = this.#payload;
    let after: string | null = null;
    while (!this.#context.signal.aborted) {
      const doomed: (Policy & { id: string })[] = await this.#rows(
        `select id, target, policy_id, policy_scope, keep_for_days from pg_temp.retention_doomed
          where not dropped and ($1::uuid is null or id > $1) order by id limit $2`,
        [after, Math.min(batchSize, DROP_SESSIONS_PER_BATCH)],
      );
      if (doomed.length === 0) return;
      after = doomed[doomed.length - 1]!.id;
      const started = performance.now();
      await this.#batch(async () => {
        // Still expired (nobody restored it meanwhile); it is hidden, so it is in nobody's hands.
        const locked = await this.#rows<{ id: string }>(LOCK_EXPIRED_SESSIONS, [
          this.#cutoff,
          doomed.map((session) => session.id),
        ]);
        if (locked.length === 0) return [];
        const ids = locked.map((session) => session.id);
        const stragglers = await this.#rows<{ session_id: string; messages: number }>(DELETE_MESSAGES_OF_SESSIONS, [
          ids,
        ]);
        await this.#client.query(DELETE_SESSIONS, [ids]);
        const messagesOf = new Map(stragglers.map((row) => [row.session_id, row.messages]));
        const policyOf = new Map(doomed.map((session) => [session.id, session]));
        return ids.map((id) => ({ policy: policyOf.get(id)!, sessions: 1, messages: messagesOf.get(id) ?? 0 }));
      });
      await this.#pause(performance.now() - started);
    }
  }

  /**
   * Walks `table`'s heap from its first page to its size at the start (rows added later are not
   * expired), in TID-range slices, running `work` on each slice in its own batch. The slice grows
   * or shrinks so a batch takes about TARGET_BATCH_MS, and after each batch the sweep idles for
   * `pause` times as long: short transactions, and the server's time left to the API.
   */
  async #sweep(table: HeapTable, work: (from: string, to: string) => Promise<Counted[]>): Promise<void> {
    const [geometry] = await this.#rows<{ pages: number; rows_per_page: number | null }>(HEAP_GEOMETRY, [table]);
    const { pages, rows_per_page: rowsPerPage } = geometry!;
    let slicePages = Math.max(1, Math.floor(this.#payload.batchSize / (rowsPerPage ?? DENSE_ROWS_PER_PAGE)));
    for (let first = 0; first < pages && !this.#context.signal.aborted;) {
      const last = Math.min(pages, first + slicePages);
      const started = performance.now();
      await this.#batch(() => work(`(${first},0)`, `(${last},0)`));
      const elapsed = performance.now() - started;
      first = last;
      const scale = Math.min(2, Math.max(0.5, TARGET_BATCH_MS / Math.max(1, elapsed)));
      slicePages = Math.max(1, Math.min(MAX_SLICE_PAGES, Math.round(slicePages * scale)));
      await this.#pause(elapsed);
    }
  }

  /** Idles `pause` times `batchMs`, waking early when the run is aborted. */
  async #pause(batchMs: number): Promise<void> {
    const ms = batchMs * this.#payload.pause;
    if (ms <= 0 || this.#context.signal.aborted) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#context.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#context.signal.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * Walks `table`'s heap in slices of about `batchSize` rows (TID range scans), deleting (or
   * counting) the rows `doomed` selects. Neither deleted_at nor memory age is indexed, and a
   * filtered scan restarted per batch would re-read the dead rows of earlier batches each time;
   * a slice costs the same however much has been deleted.
   */
  async heap(phase: Phase, table: HeapTable, doomed: string): Promise<void> {
    this.#phase = phase;
    const [geometry] = await this.#rows<{ pages: number; rows_per_page: number | null }>(HEAP_GEOMETRY, [table]);
    const { pages, rows_per_page: rowsPerPage } = geometry!;
    const slicePages = Math.max(1, Math.floor(this.#payload.batchSize / (rowsPerPage ?? DENSE_ROWS_PER_PAGE)));
    const toCounts = (rows: (Policy & { rows: number })[]): Counted[] =>
      rows.map((row) => ({ policy: row, ...(table === 'memories' ? { memories: row.rows } : { messages: row.rows }) }));
    for (let first = 0; first < pages && !this.#context.signal.aborted; first += slicePages) {
      const params = [this.#cutoff, `(${first},0)`, `(${first + slicePages},0)`];
      if (this.#payload.dryRun) {
        await this.#record(toCounts(await this.#rows(countByPolicy(doomed), params)));
      } else {
        await this.#batch(async () => toCounts(await this.#rows(deleteByPolicy(table, doomed), params)));
      }
    }
  }

  /**
   * One short transaction. Its counts enter the receipt only once it has committed. A lock it
   * cannot get within the timeout (or a deadlock) skips the batch: its rows stay for the next
   * run, and the run goes on instead of failing on a conversation that happens to be busy.
   */
  async #batch(work: () => Promise<Counted[]>): Promise<Counted[] | undefined> {
    await this.#client.query(this.#beginBatch);
    let counts: Counted[];
    try {
      counts = await work();
      await this.#client.query('commit');
    } catch (error) {
      await this.#client.query('rollback').catch(() => {
        throw error;
      });
      if (!isLockConflict(error)) throw error;
      this.#lockConflicts += 1;
      this.#context.logger.warn({ err: error, phase: this.#phase }, 'retention batch skipped: rows are locked');
      return undefined;
    }
    await this.#record(counts);
    return counts;
  }

  /** Adds a finished batch (committed, or counted in a dry run) to the receipt and reports progress. */
  async #record(counts: Counted[]): Promise<void> {
    this.#batches += 1;
    for (const { policy, ...tally } of counts) this.receipt.add(policy, tally);
    await this.#context.reportProgress({ phase: this.#phase, ...this.details() });
  }

  async #rows<Row extends QueryResultRow>(sql: string, params: unknown[]): Promise<Row[]> {
    return (await this.#client.query<Row>(sql, params)).rows;
  }
}

/** lock_not_available (lock_timeout) and deadlock_detected. */
function isLockConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '55P03' || code === '40P01';
}
