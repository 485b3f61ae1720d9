/**
 * The retention handler as it was before the heap sweep (commit aac6718, apps/worker/src/jobs/
 * retention/handler.ts), kept verbatim as the benchmark's baseline, measured in the same run as
 * the current handler. Only its imports changed: the deleted-projects step and the dry-run
 * preview are left out (the benchmark's data has neither), and the job context's types are
 * spelled out here. Not used by the product.
 */
import type { RetentionScope, RetentionTarget } from '@threadstore/db';
import type { JobContract } from '@threadstore/worker/jobs';
import type { PoolClient, QueryResultRow } from 'pg';
import type { RetentionPayload } from '@threadstore/jobs';

type JobContext<Payload> = Parameters<JobContract['handler']>[0] & { payload: Payload };
type JobResult = Awaited<ReturnType<JobContract['handler']>>;
const purgeDeletedProjects = async (..._args: unknown[]) => 0;
const applyPreview = async (..._args: unknown[]) => {};

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
 */
const BEGIN_BATCH = `begin; set local lock_timeout = '5s'; set local statement_timeout = '60s'`;
/**
 * Rows per heap page assumed for a table PostgreSQL has not analyzed yet. Erring dense keeps a
 * heap slice near the batch size: no row of these tables fits more than about this many per page.
 */
const DENSE_ROWS_PER_PAGE = 100;

/** Every statement below takes the run's cutoff as $1. */
const CUTOFF = '$1::timestamptz';

/*
 * The fragments below are interpolated only with column references and literals written in this
 * module, never with input.
 */

/** The governing policy of `target` for a row of `user` / `project`: project over user over global. */
function governingPolicy(target: string, user: string | null, project: string | null): string {
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

function underLegalHold(user: string | null, project: string | null): string {
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
 * Deleted before their sessions, so the receipt counts them (the FK cascade would not say). Their
 * search entries go in the same statement: that table has no foreign key (a per-row trigger on
 * every deleted message is what made retention slow), so nothing else would remove them. Their
 * earlier versions (chat_message_versions) go with the session, by its cascading foreign key;
 * single messages purged below take theirs in the same statement, like their search entries.
 */
const DELETE_MESSAGES_OF_SESSIONS = `
  with gone as (delete from chat_messages where session_id = any($1::uuid[]) returning session_id),
  unindexed as (delete from chat_message_search where session_id = any($1::uuid[]))
  select session_id, count(*)::int as messages from gone group by 1`;

const DELETE_SESSIONS = `delete from chat_sessions where id = any($1::uuid[])`;

/**
 * A session with more messages than a batch is emptied over several transactions. Its first
 * batch hides it the way a user's delete does, so from then on nobody reads or appends to a
 * half-emptied conversation; the version bump makes a concurrent ORM update of it a CONFLICT. It
 * still matches its expiry rule (inactivity is judged before the soft-delete grace), so a run
 * killed half-way leaves it to the next one, which finishes it.
 */
const HIDE_SESSION = `
  update chat_sessions set deleted_at = now(), version = version + 1 where id = $1 and deleted_at is null`;

const DELETE_SOME_MESSAGES = `
  with gone as (
    delete from chat_messages where id in (select id from chat_messages where session_id = $1 limit $2) returning id
  ),
  unindexed as (delete from chat_message_search where message_id in (select id from gone)),
  unversioned as (delete from chat_message_versions where message_id in (select id from gone))
  select count(*)::int as messages from gone`;

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

type HeapTable = 'chat_messages' | 'memories';

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

type Phase = 'sessions' | 'soft_deleted_messages' | 'memories';

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
    const purge = new Purge(client, rows[0]!.cutoff, payload, { signal, logger, reportProgress });
    await purge.sessions();
    await purge.heap('soft_deleted_messages', 'chat_messages', EXPIRED_SOFT_DELETED_MESSAGES);
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

class Purge {
  readonly receipt = new Receipt();
  readonly #client: PoolClient;
  readonly #cutoff: string;
  readonly #payload: RetentionPayload;
  readonly #context: Pick<JobContext<RetentionPayload>, 'signal' | 'logger' | 'reportProgress'>;
  #batches = 0;
  #lockConflicts = 0;
  #phase: Phase = 'sessions';

  constructor(
    client: PoolClient,
    cutoff: string,
    payload: RetentionPayload,
    context: Pick<JobContext<RetentionPayload>, 'signal' | 'logger' | 'reportProgress'>,
  ) {
    this.#client = client;
    this.#cutoff = cutoff;
    this.#payload = payload;
    this.#context = context;
  }

  details(): Record<string, unknown> {
    return {
      dryRun: this.#payload.dryRun,
      cutoff: this.#cutoff,
      batchSize: this.#payload.batchSize,
      batches: this.#batches,
      lockConflicts: this.#lockConflicts,
      stoppedEarly: this.#context.signal.aborted,
      targets: this.receipt.toJSON(),
    };
  }

  /** Walks the sessions by id, a window of `batchSize` at a time, deleting the expired ones. */
  async sessions(): Promise<void> {
    this.#phase = 'sessions';
    const { batchSize, dryRun } = this.#payload;
    let after: string | null = null;
    while (!this.#context.signal.aborted) {
      const [end]: { id: string }[] = await this.#rows(SESSION_WINDOW_END, [after, batchSize]);
      const windowEnd: string | null = end?.id ?? null;
      const expired = await this.#rows<Policy & { id: string; last_seq: string }>(EXPIRED_SESSIONS_IN_WINDOW, [
        this.#cutoff,
        after,
        windowEnd,
      ]);
      if (dryRun) await this.#countSessions(expired);
      else await this.#deleteSessions(expired);
      if (windowEnd === null) return;
      after = windowEnd;
    }
  }

  async #countSessions(expired: (Policy & { id: string })[]): Promise<void> {
    const messages = await this.#rows<{ session_id: string; messages: number }>(COUNT_MESSAGES_OF_SESSIONS, [
      expired.map((session) => session.id),
    ]);
    const messagesOf = new Map(messages.map((row) => [row.session_id, row.messages]));
    await this.#record(
      expired.map((session) => ({ policy: session, sessions: 1, messages: messagesOf.get(session.id) ?? 0 })),
    );
  }

  /**
   * Deletes the expired sessions of a window in batches of whole sessions whose messages fit the
   * batch size (by `last_seq`, an upper bound of their count); a larger session goes on its own.
   */
  async #deleteSessions(expired: (Policy & { id: string; last_seq: string })[]): Promise<void> {
    const { batchSize } = this.#payload;
    let next = 0;
    while (next < expired.length && !this.#context.signal.aborted) {
      if (Number(expired[next]!.last_seq) > batchSize) {
        await this.#deleteLargeSession(expired[next]!.id);
        next += 1;
        continue;
      }
      let end = next;
      let messages = 0;
      while (end < expired.length && messages + Number(expired[end]!.last_seq) <= batchSize) {
        messages += Number(expired[end]!.last_seq);
        end += 1;
      }
      await this.#deleteWholeSessions(expired.slice(next, end).map((session) => session.id));
      next = end;
    }
  }

  async #deleteWholeSessions(ids: string[]): Promise<void> {
    await this.#batch(async () => {
      const locked = await this.#rows<Policy & { id: string }>(LOCK_EXPIRED_SESSIONS, [this.#cutoff, ids]);
      if (locked.length === 0) return [];
      const lockedIds = locked.map((session) => session.id);
      const messages = await this.#rows<{ session_id: string; messages: number }>(DELETE_MESSAGES_OF_SESSIONS, [
        lockedIds,
      ]);
      await this.#client.query(DELETE_SESSIONS, [lockedIds]);
      const messagesOf = new Map(messages.map((row) => [row.session_id, row.messages]));
      return locked.map((session) => ({ policy: session, sessions: 1, messages: messagesOf.get(session.id) ?? 0 }));
    });
  }

  async #deleteLargeSession(id: string): Promise<void> {
    const { batchSize } = this.#payload;
    while (!this.#context.signal.aborted) {
      const counts = await this.#batch(async () => {
        const [session] = await this.#rows<Policy & { id: string }>(LOCK_EXPIRED_SESSIONS, [this.#cutoff, [id]]);
        if (!session) return [];
        await this.#client.query(HIDE_SESSION, [id]);
        const [deleted] = await this.#rows<{ messages: number }>(DELETE_SOME_MESSAGES, [id, batchSize]);
        const emptied = deleted!.messages < batchSize;
        if (emptied) await this.#client.query(DELETE_SESSIONS, [[id]]);
        return [{ policy: session, sessions: emptied ? 1 : 0, messages: deleted!.messages }];
      });
      // Done once it is gone; also when it is no longer expired, in use, or locked: the next run
      // looks at it again.
      if (counts?.[0]?.sessions !== 0) return;
    }
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
    await this.#client.query(BEGIN_BATCH);
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
