import type { Actor } from '../principal.ts';
import { ownerOf } from '../principal.ts';
import { auditInsert, bindings, ownedBy } from '../messages/sql.ts';

/**
 * The columns sessions.fork copies from each message, spelled out (never `m.*`): a column added
 * to chat_messages later is not copied until someone decides it should be. Not copied: id, seq,
 * session_id and parent_id (new ones), created_at/updated_at (the copy is new), deleted_at (only
 * visible messages are copied), context_record (it names the source session's messages), version,
 * edited_at and edit_of (a copy is a new message at version 1 holding the current text and parts;
 * the earlier versions stay with the source, and edit_of names a message of the source session).
 */
export const FORK_COPIED_COLUMNS = [
  'role',
  'content',
  'parts',
  'chapter',
  'citations',
  'tool_calls',
  'metadata',
  'model',
  'prompt_tokens',
  'completion_tokens',
  'cost',
  'latency_ms',
  'agent_id',
  'client_message_id',
  'request_hash',
  'sanitized',
  'generation_status',
  'stop_reason',
] as const;

export interface ForkStatementInput {
  sessionId: string;
  messageId: string | null;
  path: 'history' | 'branch';
  title: string | null;
  clientKey: string | null;
  /** A UUIDv7 for the new session; its copies' ids derive from it (see `numbered`). */
  newSessionId: string;
}

/**
 * The whole fork as one statement, however long the history: one round trip, one snapshot of the
 * source (a message appended or deleted meanwhile is either wholly in or wholly out), and no
 * window in which the new session exists half-filled.
 *  1. `source`: the session, if it is the actor's and not deleted; `cut`: the fork point, a
 *     visible message of it (only with a messageId: an unknown one makes the whole fork a no-op).
 *  2. `picked`: the visible messages up to the cut (`history`), or the cut and its ancestors
 *     through parent_id (`branch`, a recursive walk on the primary key that stops at a deleted
 *     or missing parent).
 *  3. `numbered`: each picked message with its new seq 1…n in the source's order. Its new id is
 *     the session's UUIDv7 with the last 32 bits replaced by the seq (`idOf`): the ids ascend
 *     like appended ones, so the inserts into the primary key (and the search queue's) go to the
 *     right edge of the index instead of dirtying random pages all over it; they stay unique, as
 *     42 random bits of the session's id remain and a fork's ids differ in the seq.
 *  4. `session`, `inserted`: the new session and the copies. A copy's parent is the copy of its
 *     parent, null when the parent was not copied. On a branch that is simply the copy before it
 *     (the walk went from child to parent). On a history it takes a join of `numbered` with
 *     itself, which must be a hash join: the planner estimates a CTE from the table's statistics,
 *     which say a few dozen rows for one session of a large table (or anything at all right after
 *     a bulk load), and the nested loop it then picks over 100,000 × 100,000 rows never ends.
 *     `forkSettings` rules nested loops out for that statement, so the history is read by the
 *     bound session id (an index condition that needs no loop) rather than through `source`.
 *     A message still being generated is copied as `incomplete`: no writer will finish the copy.
 *  5. `queued` hands the copies to the search indexer; `audit` records the fork.
 * A reused clientKey fails the whole statement on the unique (owner, client_key) index, so
 * nothing is written; the caller then finds the earlier fork.
 */
/**
 * Run before the fork statement, in its transaction. Sorting and hashing 100,000 messages spills
 * to disk at the default 4 MB of work_mem, and a fork of a long session under load may outlast
 * the pool's statement timeout (meant for requests that read a page); a fork is bounded by the
 * session's length instead, and holds no lock anyone else waits for but the new session's. A
 * history's parent mapping must not run as a nested loop (see `forkStatement`); a branch's walk
 * must, as one primary-key lookup per step.
 */
export function forkSettings(path: 'history' | 'branch'): string {
  return `select set_config('work_mem', '64MB', true), set_config('statement_timeout', '300s', true),
                 set_config('enable_nestloop', '${path === 'branch' ? 'on' : 'off'}', true)`;
}

export function forkStatement(actor: Actor, input: ForkStatementInput): { text: string; values: unknown[] } {
  const { values, bind } = bindings();
  const sessionId = bind(input.sessionId);
  const messageId = input.messageId === null ? null : bind(input.messageId);
  const columns = FORK_COPIED_COLUMNS.join(', ');
  const newId = `${bind(input.newSessionId)}::uuid`;
  // A null seq (a parent that was not copied) gives a null id.
  const idOf = (seq: string) => `(left(${newId}::text, 28) || lpad(to_hex(${seq}), 8, '0'))::uuid`;
  const copied = FORK_COPIED_COLUMNS.map((column) =>
    column === 'generation_status'
      ? `case when n.generation_status = 'generating' then 'incomplete' else n.generation_status end`
      : column === 'stop_reason'
        ? `case when n.generation_status = 'generating' then 'forked' else n.stop_reason end`
        : `n.${column}`,
  ).join(', ');
  const cut =
    messageId === null
      ? ''
      : `, cut as (
      select m.id, m.seq from chat_messages m join source on m.session_id = source.id
       where m.id = ${messageId} and m.deleted_at is null
    )`;
  const branch =
    input.path === 'branch'
      ? `, chain as (
      select m.* from chat_messages m join cut on m.id = cut.id
      union all
      select p.* from chain c
        join chat_messages p on p.id = c.parent_id and p.session_id = ${sessionId} and p.deleted_at is null
    )`
      : '';
  const parent =
    input.path === 'branch' ? `case when n.new_seq > 1 then ${idOf('n.new_seq - 1')} end` : idOf('parent.new_seq');
  const picked =
    input.path === 'branch'
      ? `select * from chain`
      : `select m.* from chat_messages m
          where m.session_id = ${sessionId} and m.deleted_at is null and exists (select from source)${
            messageId === null ? '' : ' and m.seq <= (select seq from cut)'
          }`;
  const text = `
    with recursive source as (
      select s.* from chat_sessions s
       where s.id = ${sessionId} and s.deleted_at is null and ${ownedBy('s', ownerOf(actor.principal), bind)}
    )${cut}${branch}, numbered as (
      select p.id, p.parent_id, p.seq, ${FORK_COPIED_COLUMNS.map((c) => `p.${c}`).join(', ')},
             row_number() over (order by p.seq) as new_seq
        from (${picked}) p
    ), tally as (
      select count(*) as n, (select id from numbered order by new_seq desc limit 1) as last_id from numbered
    ), session as (
      insert into chat_sessions (id, user_id, anonymous_id, project_id, client_key, title, agent_id, context, metadata,
        problem_statement, last_seq, message_count, last_message_at, forked_from_session_id, forked_from_message_id)
      select ${newId}, s.user_id, s.anonymous_id, s.project_id, ${bind(input.clientKey)}::text,
             coalesce(${bind(input.title)}::text, s.title), s.agent_id, s.context, s.metadata, s.problem_statement,
             t.n, t.n, case when t.n > 0 then now() end, s.id, ${messageId === null ? 't.last_id' : 'cut.id'}
        from source s cross join tally t${messageId === null ? '' : ' cross join cut'}
      returning id
    ), inserted as (
      insert into chat_messages (id, session_id, seq, parent_id, ${columns}, forked_from_id)
      select ${idOf('n.new_seq')}, session.id, n.new_seq, ${parent}, ${copied}, n.id
        from numbered n cross join session${
          input.path === 'branch' ? '' : ' left join numbered parent on parent.id = n.parent_id'
        }
      returning id
    ), queued as (
      insert into chat_message_search_queue (message_id) select id from inserted
    ), audit as (
      ${auditInsert(actor, 'sessions.fork', bind, {
        subjectType: 'session',
        subjectId: 'session.id::text',
        details: `jsonb_build_object('sourceSessionId', ${sessionId}::uuid, 'messageId', ${messageId === null ? 'null' : `${messageId}::uuid`},
                  'path', ${bind(input.path)}::text, 'copied', tally.n)`,
        from: 'session, tally',
      })}
    )
    select exists (select from source) as source_found, ${messageId === null ? 'true' : 'exists (select from cut)'} as cut_found,
           (select id from session) as session_id, (select n from tally)::int as copied`;
  return { text, values };
}
