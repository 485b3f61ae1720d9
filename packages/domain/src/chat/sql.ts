import { CHANGES_CHANNEL, type EntityManager, type GenerationStatus, type TurnStatus } from '@threadstore/db';
import type { Owner } from '../principal.ts';
import { MESSAGE_COLUMNS, type MessageRow } from '../messages/rows.ts';
import { bindings, ownedBy, query, type Bind } from '../messages/sql.ts';
import type { ModelPrice } from './settings.ts';

// The conversation loop's SQL. Every statement reaching a turn through a caller goes through
// `ownedBy`, so another principal's turn looks exactly like none. Ids always travel as bound
// parameters.

/** Who writes an answer: the backend pid and start time of its process's listening connection. */
export interface Holder {
  pid: number;
  /** `backend_start` as PostgreSQL's text, so it binds back exactly (microseconds included). */
  startedAt: string;
}

/**
 * "The writer of turn `t` is alive": its process's listening connection is still open. A process
 * killed with -9 loses its connection the moment the kernel closes the socket, so the lease ends
 * with the process, with no timeout to wait out and no clock to trust.
 */
const HOLDER_ALIVE = `exists (select from pg_stat_activity a
                               where a.pid = t.holder_pid and a.backend_start = t.holder_started_at)`;

export interface LockedSession {
  id: string;
  user_id: string | null;
  project_id: string | null;
  anonymous_id: string | null;
  project_chat: unknown;
}

/**
 * Locks the caller's session row until commit: every send to a session decides (run, queue,
 * reject) one after the other, whichever API process it reaches. Null for a foreign id.
 */
export async function lockOwnedSession(
  em: EntityManager,
  owner: Owner,
  sessionId: string,
): Promise<LockedSession | null> {
  const { values, bind } = bindings();
  const [row] = await query<LockedSession>(
    em,
    `select s.id, s.user_id, s.anonymous_id, s.project_id, p.settings -> 'chat' as project_chat
       from chat_sessions s left join projects p on p.id = s.project_id and p.deleted_at is null
      where s.id = ${bind(sessionId)} and s.deleted_at is null and ${ownedBy('s', owner, bind)}
        for update of s`,
    values,
  );
  return row ?? null;
}

/** The same lock for the loop itself (it acts for the turn's owner, whose session id it holds). */
export async function lockSession(em: EntityManager, sessionId: string): Promise<LockedSession | null> {
  const { values, bind } = bindings();
  const [row] = await query<LockedSession>(
    em,
    `select s.id, s.user_id, s.anonymous_id, s.project_id, p.settings -> 'chat' as project_chat
       from chat_sessions s left join projects p on p.id = s.project_id and p.deleted_at is null
      where s.id = ${bind(sessionId)} and s.deleted_at is null
        for update of s`,
    values,
  );
  return row ?? null;
}

export interface TurnRow {
  id: string;
  session_id: string;
  user_message_id: string;
  assistant_message_id: string | null;
  client_message_id: string | null;
  status: TurnStatus;
  stop_reason: string | null;
  cancel_requested: boolean;
  alive: boolean;
}

const TURN_COLUMNS = `t.id, t.session_id, t.user_message_id, t.assistant_message_id, t.client_message_id, t.status,
  t.stop_reason, t.cancel_requested, (t.status = 'running' and ${HOLDER_ALIVE}) as alive`;

export async function findTurnByClientMessageId(
  em: EntityManager,
  sessionId: string,
  clientMessageId: string,
): Promise<TurnRow | null> {
  const { values, bind } = bindings();
  const [row] = await query<TurnRow>(
    em,
    `select ${TURN_COLUMNS} from chat_turns t
      where t.session_id = ${bind(sessionId)} and t.client_message_id = ${bind(clientMessageId)}`,
    values,
  );
  return row ?? null;
}

/** The running turn of a session and whether its writer lives; queued turns counted. */
export async function sessionTurnState(
  em: EntityManager,
  sessionId: string,
): Promise<{ running: TurnRow | null; queued: number }> {
  const { values, bind } = bindings();
  const id = bind(sessionId);
  const [row] = await query<{ running: TurnRow | null; queued: string }>(
    em,
    `select (select row_to_json(r) from (select ${TURN_COLUMNS} from chat_turns t
                                          where t.session_id = ${id} and t.status = 'running') r) as running,
            (select count(*) from chat_turns t where t.session_id = ${id} and t.status = 'queued') as queued`,
    values,
  );
  return { running: row?.running ?? null, queued: Number(row?.queued ?? 0) };
}

export async function insertTurn(
  em: EntityManager,
  turn: {
    sessionId: string;
    userMessageId: string;
    assistantMessageId: string | null;
    clientMessageId: string | null;
    status: 'queued' | 'running';
    holder: Holder | null;
  },
): Promise<string> {
  const { values, bind } = bindings();
  const [row] = await query<{ id: string }>(
    em,
    `insert into chat_turns (session_id, user_message_id, assistant_message_id, client_message_id, status,
                             holder_pid, holder_started_at, started_at)
     values (${bind(turn.sessionId)}, ${bind(turn.userMessageId)}, ${bind(turn.assistantMessageId)},
             ${bind(turn.clientMessageId)}, ${bind(turn.status)}, ${bind(turn.holder?.pid ?? null)},
             ${bind(turn.holder?.startedAt ?? null)}::timestamptz,
             case when ${bind(turn.status)} = 'running' then now() end)
     returning id`,
    values,
  );
  return row!.id;
}

/** Marks a just-appended assistant message as the answer being generated. */
export async function markGenerating(em: EntityManager, messageId: string): Promise<void> {
  const { values, bind } = bindings();
  await query(em, `update chat_messages set generation_status = 'generating' where id = ${bind(messageId)}`, values);
}

/** Turns a queued turn into the running one, written by `holder`. */
export async function startQueuedTurn(
  em: EntityManager,
  turnId: string,
  assistantMessageId: string,
  holder: Holder,
): Promise<void> {
  const { values, bind } = bindings();
  await query(
    em,
    `update chat_turns set status = 'running', assistant_message_id = ${bind(assistantMessageId)},
            holder_pid = ${bind(holder.pid)}, holder_started_at = ${bind(holder.startedAt)}::timestamptz,
            started_at = now()
      where id = ${bind(turnId)} and status = 'queued'`,
    values,
  );
}

export async function oldestQueuedTurn(em: EntityManager, sessionId: string): Promise<TurnRow | null> {
  const { values, bind } = bindings();
  const [row] = await query<TurnRow>(
    em,
    `select ${TURN_COLUMNS} from chat_turns t
      where t.session_id = ${bind(sessionId)} and t.status = 'queued' order by t.created_at, t.id limit 1`,
    values,
  );
  return row ?? null;
}

/**
 * Asks the running turn of a session to stop (its writer, in whichever process, hears it on the
 * change channel) and drops the turns queued behind it: `interrupt` means the newest message wins.
 */
export async function interruptSession(em: EntityManager, sessionId: string): Promise<string[]> {
  const { values, bind } = bindings();
  const rows = await query<{ id: string }>(
    em,
    `with running as (
       update chat_turns set cancel_requested = true
        where session_id = ${bind(sessionId)} and status = 'running' returning id
     ), dropped as (
       update chat_turns set status = 'cancelled', stop_reason = 'interrupted', finished_at = now()
        where session_id = ${bind(sessionId)} and status = 'queued' returning id
     )
     select id, pg_notify(${bind(CHANGES_CHANNEL)}, json_build_object('c', id, 'r', 'interrupted')::text) from running`,
    values,
  );
  return rows.map(({ id }) => id);
}

/** The caller's turn `turnId`, or null (foreign or missing). */
export async function findOwnedTurn(em: EntityManager, owner: Owner, turnId: string): Promise<TurnRow | null> {
  const { values, bind } = bindings();
  const [row] = await query<TurnRow>(
    em,
    `select ${TURN_COLUMNS} from chat_turns t join chat_sessions s on s.id = t.session_id
      where t.id = ${bind(turnId)} and s.deleted_at is null and ${ownedBy('s', owner, bind)}`,
    values,
  );
  return row ?? null;
}

export type AnswerRow = MessageRow & {
  generation_status: GenerationStatus | null;
  context_record: Record<string, unknown> | null;
};

export interface TurnView {
  turn: TurnRow;
  user: MessageRow;
  answer: AnswerRow | null;
}

/**
 * A turn with its two messages, as the caller (or, with `owner` null, the loop) may see them.
 * One statement, not a turn read and then a message read: it sits on the path to an answer's first
 * token (chat.send, chat.stream's start), where every round trip is latency the user waits for.
 */
export async function readTurn(em: EntityManager, owner: Owner | null, turnId: string): Promise<TurnView | null> {
  const { values, bind } = bindings();
  const rows = await query<AnswerRow & { turn: TurnRow }>(
    em,
    `with turn as (
       select ${TURN_COLUMNS} from chat_turns t
         ${owner === null ? '' : 'join chat_sessions s on s.id = t.session_id'}
        where t.id = ${bind(turnId)} ${owner === null ? '' : `and s.deleted_at is null and ${ownedBy('s', owner, bind)}`})
     select row_to_json(turn) as turn, ${MESSAGE_COLUMNS}, m.generation_status, m.context_record
       from turn join chat_messages m on m.id in (turn.user_message_id, turn.assistant_message_id)`,
    values,
  );
  const turn = rows[0]?.turn;
  if (turn === undefined) return null;
  const messages = rows.map(({ turn: _turn, ...message }) => message);
  const user = messages.find(({ id }) => id === turn.user_message_id);
  if (user === undefined) return null;
  return { turn, user, answer: messages.find(({ id }) => id === turn.assistant_message_id) ?? null };
}

export interface SessionOfTurn {
  user_id: string | null;
  anonymous_id: string | null;
  project_id: string | null;
  project_chat: unknown;
}

/** The owner and project settings of a session, for the loop working on its turn. */
export async function sessionInfo(em: EntityManager, sessionId: string): Promise<SessionOfTurn | null> {
  const { values, bind } = bindings();
  const [row] = await query<SessionOfTurn>(
    em,
    `select s.user_id, s.anonymous_id, s.project_id, p.settings -> 'chat' as project_chat
       from chat_sessions s left join projects p on p.id = s.project_id and p.deleted_at is null
      where s.id = ${bind(sessionId)}`,
    values,
  );
  return row ?? null;
}

/** Cancels a queued turn (it never gets an answer). False when it is no longer queued. */
export async function cancelQueuedTurn(em: EntityManager, turnId: string): Promise<boolean> {
  const { values, bind } = bindings();
  const rows = await query(
    em,
    `update chat_turns set status = 'cancelled', stop_reason = 'cancelled', finished_at = now()
      where id = ${bind(turnId)} and status = 'queued' returning id`,
    values,
  );
  return rows.length > 0;
}

/** Asks a running turn to stop; its writer hears it on the change channel, wherever it runs. */
export async function requestCancel(em: EntityManager, turnId: string): Promise<void> {
  const { values, bind } = bindings();
  await query(
    em,
    `update chat_turns set cancel_requested = true where id = ${bind(turnId)} and status = 'running'
     returning pg_notify(${bind(CHANGES_CHANNEL)}, json_build_object('c', id, 'r', 'cancelled')::text)`,
    values,
  );
}

/** What a writer's statements check: the turn is still running and still its own. */
function stillMine(bind: Bind, turnId: string, holder: Holder): string {
  return `t.id = ${bind(turnId)} and t.status = 'running' and t.holder_pid = ${bind(holder.pid)}
          and t.holder_started_at = ${bind(holder.startedAt)}::timestamptz`;
}

export interface Announce {
  sessionId: string;
  userId: string | null;
  anonymousId: string | null;
}

/**
 * Writes the answer so far (one statement, one row) and announces it; answers whether someone
 * asked the turn to stop, or null when the turn is no longer this writer's (then it must stop).
 */
export async function writePartial(
  em: EntityManager,
  turnId: string,
  messageId: string,
  holder: Holder,
  content: string,
  announce: Announce,
): Promise<{ cancelRequested: boolean } | null> {
  const { values, bind } = bindings();
  const [row] = await query<{ cancel_requested: boolean }>(
    em,
    `with t as (select t.cancel_requested from chat_turns t where ${stillMine(bind, turnId, holder)}),
          m as (update chat_messages set content = ${bind(content)}
                 where id = ${bind(messageId)} and generation_status = 'generating' and exists (select from t)
                returning id)
     select t.cancel_requested, pg_notify(${bind(CHANGES_CHANNEL)}, ${bind(JSON.stringify({ s: announce.sessionId, u: announce.userId, a: announce.anonymousId, m: messageId }))})
       from t, m`,
    values,
  );
  return row === undefined ? null : { cancelRequested: row.cancel_requested };
}

export interface Finish {
  content: string;
  sanitized: boolean;
  turnStatus: 'completed' | 'incomplete' | 'interrupted';
  generationStatus: 'complete' | 'incomplete' | 'interrupted';
  stopReason: string | null;
  model: string;
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
  price: ModelPrice | null;
  context: Record<string, unknown>;
  /** The audit row's actor. */
  audit: { actorType: string; actorId: string; requestId: string | null };
}

/**
 * Stores the answer for good, in one statement: the message (content, model, tokens, exact cost,
 * latency, context record, status), the turn, the session's cost and round (bumping its
 * version: the session changed), and the audit row. Nothing happens when the turn is no longer
 * this writer's (someone marked it interrupted): false.
 */
export async function finishTurn(
  em: EntityManager,
  turnId: string,
  messageId: string,
  holder: Holder,
  finish: Finish,
): Promise<boolean> {
  const { values, bind } = bindings();
  // Cost in PostgreSQL's exact numeric: tokens × price per token, never a float.
  const cost =
    finish.price === null
      ? `0::numeric`
      : `(${bind(finish.promptTokens)}::numeric * ${bind(finish.price.prompt)}::numeric
          + ${bind(finish.completionTokens)}::numeric * ${bind(finish.price.completion)}::numeric)`;
  const rows = await query<{ id: string }>(
    em,
    `with t as (
       update chat_turns t set status = ${bind(finish.turnStatus)}, stop_reason = ${bind(finish.stopReason)},
              finished_at = now()
        where ${stillMine(bind, turnId, holder)}
       returning t.id, t.session_id
     ), m as (
       update chat_messages m
          set content = ${bind(finish.content)}, sanitized = ${bind(finish.sanitized)},
              generation_status = ${bind(finish.generationStatus)}, stop_reason = ${bind(finish.stopReason)},
              model = ${bind(finish.model)}, prompt_tokens = ${bind(finish.promptTokens)},
              completion_tokens = ${bind(finish.completionTokens)}, cost = round(${cost}, 10),
              latency_ms = ${bind(finish.latencyMs)}, context_record = ${bind(JSON.stringify(finish.context))}::jsonb
         from t where m.id = ${bind(messageId)}
       returning m.id, m.cost, t.session_id
     ), search as (
       -- The answer was queued for search when its empty placeholder was appended, and may have
       -- been indexed empty since: queue it again now that its text is final. DO UPDATE, not DO
       -- NOTHING: both wait for a batch that has already deleted the placeholder's queue row, but
       -- only DO UPDATE waits for one that has locked it and not yet deleted it (a moment inside
       -- the batch's statement); DO NOTHING then found the row, did nothing, and the batch indexed
       -- the old text and deleted the row: the final text was never indexed.
       insert into chat_message_search_queue as q (message_id) select m.id from m
       on conflict (message_id) do update set bulk = false where q.bulk
     ), s as (
       update chat_sessions s set total_cost = s.total_cost + m.cost, round_number = s.round_number + 1,
              last_activity_at = now(), version = s.version + 1
         from m where s.id = m.session_id
       returning s.id
     ), audit as (
       insert into audit_log (actor_type, actor_id, action, subject_type, subject_id, details, request_id)
       select ${bind(finish.audit.actorType)}, ${bind(finish.audit.actorId)}, 'chat.answer', 'session', s.id::text,
              jsonb_build_object('turnId', ${bind(turnId)}::text, 'status', ${bind(finish.turnStatus)}::text,
                                 'stopReason', ${bind(finish.stopReason)}::text, 'cost', m.cost),
              ${bind(finish.audit.requestId)}
         from s, m
     )
     select t.id from t`,
    values,
  );
  return rows.length > 0;
}

/**
 * Marks every running turn whose writer's process is gone as interrupted, with its answer (the
 * partial text stays), and touches the sessions so their watchers hear it. Answers the sessions
 * touched, whose queued turns may now run.
 */
export async function reapDeadTurns(em: EntityManager, sessionId: string | null = null): Promise<string[]> {
  const { values, bind } = bindings();
  const rows = await query<{ session_id: string }>(
    em,
    `with dead as (
       update chat_turns t set status = 'interrupted', stop_reason = 'interrupted', finished_at = now()
        where t.status = 'running' and not ${HOLDER_ALIVE}
          ${sessionId === null ? '' : `and t.session_id = ${bind(sessionId)}`}
       returning t.id, t.session_id, t.assistant_message_id
     ), m as (
       update chat_messages m set generation_status = 'interrupted', stop_reason = 'interrupted'
         from dead where m.id = dead.assistant_message_id and m.generation_status = 'generating'
       returning m.id
     ), s as (
       update chat_sessions s set last_activity_at = now() where s.id in (select session_id from dead)
       returning s.id
     )
     select distinct dead.session_id from dead`,
    values,
  );
  return rows.map(({ session_id }) => session_id);
}

/** Sessions with queued turns and no running one (their runner died between turns). */
export async function sessionsWithStrandedQueues(em: EntityManager): Promise<string[]> {
  const rows = await query<{ session_id: string }>(
    em,
    `select distinct q.session_id from chat_turns q
      where q.status = 'queued'
        and not exists (select from chat_turns r where r.session_id = q.session_id and r.status = 'running')
      limit 100`,
    [],
  );
  return rows.map(({ session_id }) => session_id);
}

/** After this process's listening connection was replaced: its running turns follow it. */
export async function moveHolder(em: EntityManager, from: Holder, to: Holder): Promise<void> {
  const { values, bind } = bindings();
  await query(
    em,
    `update chat_turns set holder_pid = ${bind(to.pid)}, holder_started_at = ${bind(to.startedAt)}::timestamptz
      where status = 'running' and holder_pid = ${bind(from.pid)}
        and holder_started_at = ${bind(from.startedAt)}::timestamptz`,
    values,
  );
}

/**
 * The messages of the prompt: the conversation that leads to the message at `seq`, newest first,
 * at most `limit`, without deleted messages, tool messages or answers still being generated.
 *
 * Followed one message back at a time: a message's predecessor is its `parent_id` when it has
 * one (an answer's question, a branch's branch point); otherwise the message just before it in
 * the session (a plain send follows whatever came last), except for a message sent as an edit
 * with no parent, which starts the conversation anew. Without any edit this is exactly the
 * session's latest messages up to `seq` (what this statement replaced); after
 * `chat.send({ editOf })` the edited message and everything after it stay out of the new
 * branch's prompts, however the conversation goes on. Each step is one probe of the primary key
 * or of (session_id, seq); the walk stops after `2 × limit` steps (deleted and tool messages
 * take a step without adding to the prompt).
 */
export async function conversationPath(
  em: EntityManager,
  sessionId: string,
  seq: number,
  limit: number,
): Promise<{ id: string; role: 'system' | 'user' | 'assistant'; content: string }[]> {
  const { values, bind } = bindings();
  const session = bind(sessionId);
  return query(
    em,
    `with recursive walk (id, parent_id, edit_of, seq, step) as (
       select m.id, m.parent_id, m.edit_of, m.seq, 1 from chat_messages m
        where m.session_id = ${session} and m.seq = ${bind(seq)}
       union all
       select p.id, p.parent_id, p.edit_of, p.seq, w.step + 1
         from walk w
        cross join lateral (
          select m.id, m.parent_id, m.edit_of, m.seq from chat_messages m
           where w.parent_id is not null and m.id = w.parent_id and m.session_id = ${session}
          union all
          (select m.id, m.parent_id, m.edit_of, m.seq from chat_messages m
            where w.parent_id is null and w.edit_of is null and m.session_id = ${session} and m.seq < w.seq
            order by m.seq desc limit 1)
        ) as p
        where w.step < ${bind(2 * limit)}
     )
     select m.id, m.role, m.content from walk join chat_messages m on m.id = walk.id
      where m.deleted_at is null and m.role in ('system', 'user', 'assistant')
        and m.generation_status is distinct from 'generating'
      order by walk.step limit ${bind(limit)}`,
    values,
  );
}

/**
 * Where a message sent as an edit of user message `editOf` attaches: to the edited message's own
 * predecessor (as `conversationPath` would walk it), when that is a visible message; null when
 * the edited message began the conversation. Null as a whole for anything but a visible user
 * message of the session.
 */
export async function branchPoint(
  em: EntityManager,
  sessionId: string,
  editOf: string,
): Promise<{ parentId: string | null } | null> {
  const { values, bind } = bindings();
  const session = bind(sessionId);
  const [row] = await query<{ parent_id: string | null }>(
    em,
    `select case
              when e.parent_id is not null then
                (select p.id from chat_messages p where p.id = e.parent_id and p.deleted_at is null)
              when e.edit_of is not null then null
              else (select p.id from chat_messages p
                     where p.session_id = e.session_id and p.seq < e.seq and p.deleted_at is null
                     order by p.seq desc limit 1)
            end as parent_id
       from chat_messages e
      where e.id = ${bind(editOf)} and e.session_id = ${session} and e.role = 'user' and e.deleted_at is null`,
    values,
  );
  return row === undefined ? null : { parentId: row.parent_id };
}

/**
 * What a session watcher has not seen yet: messages after `afterSeq`, plus the answers still
 * being generated and those it saw generating (`trackedIds`), whose text or status may have
 * moved on. Only messages of a session `owner` owns.
 */
export async function changedMessages(
  em: EntityManager,
  owner: Owner,
  sessionId: string,
  afterSeq: number,
  trackedIds: readonly string[],
  limit: number,
): Promise<AnswerRow[]> {
  const { values, bind } = bindings();
  return query<AnswerRow>(
    em,
    `select ${MESSAGE_COLUMNS}, m.generation_status, null as context_record
       from chat_messages m join chat_sessions s on s.id = m.session_id
      where m.session_id = ${bind(sessionId)} and m.deleted_at is null and ${ownedBy('s', owner, bind)}
        and (m.seq > ${bind(afterSeq)} or m.generation_status = 'generating' or m.id = any(${bind(trackedIds)}::uuid[]))
      order by m.seq limit ${bind(limit)}`,
    values,
  );
}
