import type { Actor } from '../principal.ts';
import { ownerOf } from '../principal.ts';
import { auditInsert, bindings, ownedBy } from '../messages/sql.ts';

/**
 * The columns sessions.fork copies from each message, spelled out (never `m.*`): a column added
 * to chat_messages later is not copied until someone decides it should be. Not copied: id, seq,
 * session_id and parent_id (new ones), created_at/updated_at (the copy is new), deleted_at (only
 * visible messages are copied), context_record (it names the source session's messages).
 */
export const FORK_COPIED_COLUMNS = [
  'role',
  'content',
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
 *  3. `numbered`: each picked message with its new id and its new seq 1…n in the source's order.
 *     Referenced twice and volatile (gen_random_uuid), so PostgreSQL computes it exactly once.
 *  4. `session`, `inserted`: the new session and the copies, parent_id mapped to the copy of the
 *     parent (null when the parent was not copied). A message still being generated is copied
 *     as `incomplete`: no writer will ever finish the copy.
 *  5. `queued` hands the copies to the search indexer; `audit` records the fork.
 * A reused clientKey fails the whole statement on the unique (owner, client_key) index, so
 * nothing is written; the caller then finds the earlier fork.
 */
export function forkStatement(actor: Actor, input: ForkStatementInput): { text: string; values: unknown[] } {
  const { values, bind } = bindings();
  const sessionId = bind(input.sessionId);
  const messageId = input.messageId === null ? null : bind(input.messageId);
  const columns = FORK_COPIED_COLUMNS.join(', ');
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
      select m.id, m.parent_id from chat_messages m join cut on m.id = cut.id
      union all
      select p.id, p.parent_id from chain c
        join chat_messages p on p.id = c.parent_id and p.session_id = ${sessionId} and p.deleted_at is null
    )`
      : '';
  const picked =
    input.path === 'branch'
      ? `select m.* from chat_messages m join chain c on c.id = m.id`
      : `select m.* from chat_messages m join source on m.session_id = source.id${messageId === null ? '' : ' join cut on m.seq <= cut.seq'}
          where m.deleted_at is null`;
  const text = `
    with recursive source as (
      select s.* from chat_sessions s
       where s.id = ${sessionId} and s.deleted_at is null and ${ownedBy('s', ownerOf(actor.principal), bind)}
    )${cut}${branch}, numbered as (
      select p.id, p.parent_id, p.seq, ${FORK_COPIED_COLUMNS.map((c) => `p.${c}`).join(', ')},
             row_number() over (order by p.seq) as new_seq, gen_random_uuid() as new_id
        from (${picked}) p
    ), tally as (
      select count(*) as n, (select id from numbered order by new_seq desc limit 1) as last_id from numbered
    ), session as (
      insert into chat_sessions (id, user_id, anonymous_id, project_id, client_key, title, agent_id, context, metadata,
        problem_statement, last_seq, message_count, last_message_at, forked_from_session_id, forked_from_message_id)
      select ${bind(input.newSessionId)}, s.user_id, s.anonymous_id, s.project_id, ${bind(input.clientKey)}::text,
             coalesce(${bind(input.title)}::text, s.title), s.agent_id, s.context, s.metadata, s.problem_statement,
             t.n, t.n, case when t.n > 0 then now() end, s.id, ${messageId === null ? 't.last_id' : 'cut.id'}
        from source s cross join tally t${messageId === null ? '' : ' cross join cut'}
      returning id
    ), inserted as (
      insert into chat_messages (id, session_id, seq, parent_id, ${columns}, forked_from_id)
      select n.new_id, session.id, n.new_seq, parent.new_id, ${copied}, n.id
        from numbered n cross join session left join numbered parent on parent.id = n.parent_id
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
