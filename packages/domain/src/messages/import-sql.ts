import type { Actor, Owner } from '../principal.ts';
import { auditInsert, bindings, ownedBy } from './sql.ts';

/**
 * The SQL of `messages.import` (import.ts), in the order it runs, all in one transaction on a
 * connection of the import's own (COPY needs the raw connection; the ORM never sees it).
 */

/**
 * How long each statement of an import may run. The COPY of a large request can take longer
 * than the pool's default 30 s on a busy server, and being cut off there would only make the
 * client send it all again; ten minutes still ends a connection held by a stuck import.
 */
export const IMPORT_STATEMENT_TIMEOUT = `set local statement_timeout = '10min'`;

/**
 * Locks the sessions the lines name, if they are the actor's and not deleted, in id order, and
 * reads their `last_seq`. The row lock is what an append takes first too (its UPDATE of the
 * session row), so while it is held no append can take a seq or store a key in these sessions:
 * the seqs the import writes follow the last one committed, without a gap, and the key check
 * cannot miss a key committed meanwhile. Id order: two imports naming the same sessions queue
 * instead of deadlocking (an append locks one session only, so it cannot close a cycle).
 */
export function lockSessions(owner: Owner, sessionIds: readonly string[]): { text: string; values: unknown[] } {
  const { values, bind } = bindings();
  const text = `
    select s.id, s.last_seq from chat_sessions s
     where s.id = any(${bind(sessionIds)}::uuid[]) and s.deleted_at is null and ${ownedBy('s', owner, bind)}
     order by s.id
       for update`;
  return { text, values };
}

/**
 * The lines (by their index in the arrays) whose key is already stored in their session, with
 * whether the stored message is the same (same fingerprint, not deleted). One index probe per
 * line through `chat_messages_session_client_message_id_unique`: the LIMIT keeps the lateral
 * subquery from being flattened into a join, for which the planner, misjudging how many rows a
 * table being filled by a bulk import holds, picked a hash join over a sequential scan of the
 * whole of chat_messages (0.66 s for 200,000 rows, and growing with the table).
 */
export const STORED_KEYS = `
  select k.ord::int - 1 as index, m.same, m.deleted
    from unnest($1::uuid[], $2::text[], $3::text[]) with ordinality as k(session_id, key, hash, ord)
    cross join lateral (
      select m.request_hash is not distinct from k.hash and m.deleted_at is null as same,
             m.deleted_at is not null as deleted
        from chat_messages m
       where m.session_id = k.session_id and m.client_message_id = k.key
       limit 1) m`;

/** The first line (by index) whose `parentId` is not a visible message of its session. */
export const FIRST_BAD_PARENT = `
  select k.ord::int - 1 as index
    from unnest($1::uuid[], $2::uuid[]) with ordinality as k(session_id, parent_id, ord)
   where not exists (select from chat_messages p
                      where p.id = k.parent_id and p.session_id = k.session_id and p.deleted_at is null)
   order by k.ord
   limit 1`;

/**
 * The COPY that stores the messages, straight into chat_messages with their seqs (computed from
 * the locked `last_seq`s). COPY, not INSERT … SELECT from a staging table: COPY inserts rows in
 * batches (heap_multi_insert), and the staging route cost twice the server CPU of a bare COPY
 * (the INSERT alone ~74 µs a row against COPY's ~36 on this machine under load). The column
 * order is the one `copyRow` (import.ts) writes.
 */
export const COPY_MESSAGES = `
  copy chat_messages (id, session_id, seq, parent_id, role, content, parts, chapter, citations, tool_calls, metadata,
                      model, prompt_tokens, completion_tokens, cost, latency_ms, agent_id, client_message_id,
                      request_hash, sanitized) from stdin`;

/**
 * The new ids, handed to the search indexer (by COPY too: one id a line), marked `bulk`: the
 * indexer takes them after every message appended meanwhile, so an import's backlog never delays
 * what people are writing now (see search-index.ts).
 */
export const COPY_SEARCH_QUEUE = `copy chat_message_search_queue (message_id, bulk) from stdin`;

/**
 * After the COPYs, in one statement: moves each session's `last_seq`, `message_count` and
 * activity on by what it got, and writes one audit row per session with its seq range.
 */
export function finishStatement(
  actor: Actor,
  sessions: readonly { id: string; count: number; firstSeq: number; lastSeq: number }[],
): { text: string; values: unknown[] } {
  const { values, bind } = bindings();
  const text = `
    with per_session as (
      select * from unnest(${bind(sessions.map((s) => s.id))}::uuid[], ${bind(sessions.map((s) => s.count))}::int[],
                           ${bind(sessions.map((s) => s.firstSeq))}::bigint[], ${bind(sessions.map((s) => s.lastSeq))}::bigint[])
               as p(session_id, count, first_seq, last_seq)
    ), bumped as (
      update chat_sessions s
         set last_seq = p.last_seq, message_count = s.message_count + p.count,
             last_message_at = now(), last_activity_at = now()
        from per_session p
       where s.id = p.session_id
    )
    ${auditInsert(actor, 'messages.import', bind, {
      subjectType: 'session',
      subjectId: 'p.session_id::text',
      details: `jsonb_build_object('count', p.count, 'firstSeq', p.first_seq, 'lastSeq', p.last_seq)`,
      from: 'per_session p',
    })}`;
  return { text, values };
}
