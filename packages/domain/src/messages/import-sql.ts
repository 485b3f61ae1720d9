import type { Actor, Owner } from '../principal.ts';
import { auditInsert, bindings, ownedBy } from './sql.ts';

/**
 * The SQL of `messages.import` (import.ts), in the order it runs, all in one transaction on one
 * connection of its own (COPY needs the raw connection; the ORM never sees it).
 */

/**
 * How long each statement of an import may run. An import of a few hundred thousand messages
 * spends more than the pool's default 30 s in its COPY (paced by the client's upload) or its
 * move, and being cut off there would only make the client send it all again; ten minutes still
 * ends a connection held by a client that stopped sending.
 */
export const IMPORT_STATEMENT_TIMEOUT = `set local statement_timeout = '10min'`;

/**
 * The staging table the request's lines are COPYed into while they are parsed: temporary (no WAL,
 * no other session sees it, dropped at commit), no indexes, no constraints but NOT NULL. The
 * messages reach chat_messages only through MOVE_STATEMENT, so until then a bad line, a foreign
 * session or a reused key leaves nothing behind but this table, which the rollback drops.
 */
export const CREATE_STAGING = `
  create temp table message_import (
    line int not null, session_id uuid not null, position int not null, id uuid not null, parent_id uuid, role text not null,
    content text not null, parts json, chapter text, citations jsonb, tool_calls jsonb, metadata jsonb not null,
    model text, prompt_tokens int, completion_tokens int, cost numeric, latency_ms int, agent_id text,
    client_message_id text not null, request_hash text not null, sanitized boolean not null
  ) on commit drop`;

/** The COPY the parser writes into; the column order is the one `copyRow` (import.ts) writes. */
export const COPY_STAGING = `
  copy message_import (line, session_id, position, id, parent_id, role, content, parts, chapter, citations, tool_calls,
                       metadata, model, prompt_tokens, completion_tokens, cost, latency_ms, agent_id,
                       client_message_id, request_hash, sanitized) from stdin`;

/**
 * A temporary table has no statistics until it is analyzed: the planner would guess a few
 * hundred rows and could pick a sequential scan of chat_messages for the key check below.
 */
export const ANALYZE_STAGING = `analyze message_import`;

/**
 * Locks the sessions the lines name, if they are the actor's and not deleted, in id order. The
 * row lock is what an append takes first too (its UPDATE of the session row), so while it is
 * held no append can take a seq or store a key in these sessions: the seqs assigned below follow
 * the last one committed, without a gap, and the key check below cannot miss a key committed
 * meanwhile. Id order: two imports naming the same sessions queue instead of deadlocking (an
 * append locks one session only, so it cannot close a cycle either).
 */
export function lockSessions(owner: Owner, sessionIds: readonly string[]): { text: string; values: unknown[] } {
  const { values, bind } = bindings();
  const text = `
    select s.id from chat_sessions s
     where s.id = any(${bind(sessionIds)}::uuid[]) and s.deleted_at is null and ${ownedBy('s', owner, bind)}
     order by s.id
       for update`;
  return { text, values };
}

/**
 * The key check, run under the sessions' locks, as one join of the staged lines with the stored
 * messages of the same keys: it answers the first line whose key is already stored with a
 * different message, or with a message deleted since (a CONFLICT, as for an append; the caller
 * then rolls everything back), and drops from the staging table the lines whose key is stored
 * with the same message (a retried import), counting them per session: they are answered as
 * unchanged and take no seq. One join rather than a check and then a delete: each is an index
 * probe per staged line, the larger part of what the check costs.
 */
export const CHECK_KEYS = `
  with matched as (
    select st.line, st.session_id,
           m.request_hash is distinct from st.request_hash or m.deleted_at is not null as bad,
           m.deleted_at is not null as deleted
      from message_import st
      join chat_messages m on m.session_id = st.session_id and m.client_message_id = st.client_message_id
  ), dropped as (
    delete from message_import st using matched where st.line = matched.line returning st.session_id
  )
  select (select line from matched where bad order by line limit 1) as conflict_line,
         (select deleted from matched where bad order by line limit 1) as conflict_deleted,
         coalesce((select json_object_agg(session_id, count)
                     from (select session_id, count(*)::int as count from dropped group by session_id) d), '{}')
           as unchanged`;

/** The first line whose `parentId` is not a visible message of its session (only run when a line has one). */
export const FIRST_BAD_PARENT = `
  select st.line from message_import st
   where st.parent_id is not null
     and not exists (select from chat_messages p
                      where p.id = st.parent_id and p.session_id = st.session_id and p.deleted_at is null)
   order by st.line
   limit 1`;

/**
 * Moves the staged lines into chat_messages in one statement, with the sessions locked:
 *  1. `numbered` gives each line its position within its session, in line order: the one the
 *     parser counted, or (`renumber`, when lines already stored were dropped and left holes)
 *     counted again. The parser's count spares the statement a sort of every staged row, content
 *     and all, which spilled to disk and was the largest part of the move;
 *  2. `inserted` stores it at the session's `last_seq` + that position (gapless: the lock);
 *  3. `queued` hands the new ids to the search indexer, as an append does;
 *  4. `bumped` moves each session's `last_seq`, `message_count` and activity on by its count;
 *  5. `audit` writes one audit row per session that got messages, with its seq range.
 * One statement rather than one per session: the per-row cost is what bulk import is about, and
 * a statement per session would add a round trip and a plan per session.
 */
export function moveStatement(actor: Actor, renumber: boolean): { text: string; values: unknown[] } {
  const { values, bind } = bindings();
  const text = `
    with numbered as (
      select ${
        renumber
          ? 'st.*, row_number() over (partition by st.session_id order by st.line) as seq_offset'
          : 'st.*, st.position as seq_offset'
      }
        from message_import st
    ), inserted as (
      insert into chat_messages (id, session_id, seq, parent_id, role, content, parts, chapter, citations, tool_calls,
                                 metadata, model, prompt_tokens, completion_tokens, cost, latency_ms, agent_id,
                                 client_message_id, request_hash, sanitized)
      select n.id, n.session_id, s.last_seq + n.seq_offset, n.parent_id, n.role, n.content, n.parts, n.chapter,
             n.citations, n.tool_calls, n.metadata, n.model, n.prompt_tokens, n.completion_tokens, n.cost,
             n.latency_ms, n.agent_id, n.client_message_id, n.request_hash, n.sanitized
        from numbered n join chat_sessions s on s.id = n.session_id
      returning id, session_id, seq
    ), queued as (
      insert into chat_message_search_queue (message_id) select id from inserted
    ), per_session as (
      select session_id, count(*)::int as count, min(seq) as first_seq, max(seq) as last_seq
        from inserted group by session_id
    ), bumped as (
      update chat_sessions s
         set last_seq = s.last_seq + p.count, message_count = s.message_count + p.count,
             last_message_at = now(), last_activity_at = now()
        from per_session p
       where s.id = p.session_id
    ), audit as (
      ${auditInsert(actor, 'messages.import', bind, {
        subjectType: 'session',
        subjectId: 'p.session_id::text',
        details: `jsonb_build_object('count', p.count, 'firstSeq', p.first_seq, 'lastSeq', p.last_seq)`,
        from: 'per_session p',
      })}
    )
    select session_id, count, first_seq, last_seq from per_session`;
  return { text, values };
}
