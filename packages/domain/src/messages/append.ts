import type {
  ContentLimits,
  TAppendManyMessagesInput,
  TAppendMessageInput,
  TMessage,
  TNewMessage,
} from '@threadstore/contract';
import { UniqueConstraintViolationException, type EntityManager } from '@threadstore/db';
import { overLimit } from '../content/limits.ts';
import { DomainError, notFound } from '../errors.ts';
import { ownerOf, type Actor, type Owner } from '../principal.ts';
import { prepareMessage, type PreparedMessage } from './prepare.ts';
import { MESSAGE_COLUMNS, toMessage, type MessageRow } from './rows.ts';
import { auditInsert, bindings, ownedBy, query, type Bind } from './sql.ts';

/**
 * Appends one message to a session of the actor's and returns it as stored: with the session's
 * next `seq`, and the session's counters and last activity updated in the same statement.
 * With a `clientMessageId` already stored, returns that message instead (or CONFLICT when it
 * differs). NOT_FOUND for a session that is not the actor's, or is deleted.
 */
export async function appendMessage(
  em: EntityManager,
  actor: Actor,
  input: TAppendMessageInput,
  limits: ContentLimits,
  { editOf = null, announce }: { editOf?: string | null; announce?: AnnounceChange | undefined } = {},
): Promise<TMessage> {
  const { sessionId, ...message } = input;
  const [stored] = await storeMessages(em, actor, limits, {
    action: 'messages.append',
    sessionId,
    messages: [message],
    fieldOf: (_, name) => name,
    editOf,
    announce,
  });
  return stored!;
}

/**
 * Appends up to `maxBatchSize` messages, all or nothing, with consecutive seqs in the order
 * given. Messages whose `clientMessageId` is already stored with the same content are returned
 * as stored and not written again (a retried batch is harmless); one stored with different
 * content makes the whole batch a CONFLICT. A key repeated within the batch is a BAD_REQUEST.
 */
export async function appendMessages(
  em: EntityManager,
  actor: Actor,
  input: TAppendManyMessagesInput,
  limits: ContentLimits,
  { announce }: { announce?: AnnounceChange | undefined } = {},
): Promise<TMessage[]> {
  const { sessionId, messages } = input;
  if (messages.length > limits.maxBatchSize) {
    throw overLimit(
      'maxBatchSize',
      limits.maxBatchSize,
      messages.length,
      `a batch of ${messages.length} messages`,
      'messages',
    );
  }
  rejectRepeatedKeys(messages);
  return storeMessages(em, actor, limits, {
    action: 'messages.appendMany',
    sessionId,
    messages,
    fieldOf: (index, name) => `messages[${index}].${name}`,
    announce,
  });
}

/**
 * Announces, after it committed, that a session changed (the API's change feed sends it as the
 * session trigger would have). Given to an append, it takes over the announcement of the
 * session's update from the `announce_change` trigger; see `appendStatement`'s `quiet`.
 */
export type AnnounceChange = (change: { sessionId: string; owner: Owner }) => void;

function rejectRepeatedKeys(messages: readonly TNewMessage[]): void {
  const seen = new Set<string>();
  messages.forEach(({ clientMessageId }, index) => {
    if (clientMessageId == null) return;
    if (seen.has(clientMessageId)) {
      throw new DomainError('BAD_REQUEST', `messages[${index}].clientMessageId repeats an earlier one in this batch`, {
        field: `messages[${index}].clientMessageId`,
      });
    }
    seen.add(clientMessageId);
  });
}

interface Batch {
  /** The audit log's name for it. */
  action: string;
  sessionId: string;
  messages: readonly TNewMessage[];
  /** Where message `index`'s field `name` was in the input, for errors. */
  fieldOf: (index: number, name: string) => string;
  /** For a single message sent as an edit of an earlier one (the conversation loop's `editOf`). */
  editOf?: string | null;
  announce?: AnnounceChange | undefined;
}

interface Pending {
  message: PreparedMessage;
  /** Its position in the batch (and in the result). */
  index: number;
}

const CLIENT_MESSAGE_ID_UNIQUE = 'chat_messages_session_client_message_id_unique';

/**
 * Checks and sanitizes `messages`, then stores them with one statement, the hot path (see
 * `appendStatement`). An idempotency key already stored makes that statement fail as a whole
 * (the unique index sees keys that committed while it waited for the session's row lock), so
 * nothing, not even a seq, is used up; the stored messages with those keys then stand in for
 * their repeats and the rest is stored again. Each round settles at least one key for good, so
 * this ends.
 */
async function storeMessages(
  em: EntityManager,
  actor: Actor,
  limits: ContentLimits,
  { action, sessionId, messages, fieldOf, editOf = null, announce }: Batch,
): Promise<TMessage[]> {
  const owner = ownerOf(actor.principal);
  // Only an append that commits on its own (no caller's transaction around it) is announced by
  // the caller: inside a transaction nothing is committed when the statement returns, so the
  // trigger announces it, at the transaction's commit.
  const quiet = announce !== undefined && !em.isInTransaction();
  const results: TMessage[] = [];
  let pending: Pending[] = messages.map((message, index) => ({
    message: prepareMessage(message, limits, (name) => fieldOf(index, name), editOf),
    index,
  }));
  for (;;) {
    try {
      const statement = appendStatement(
        actor,
        action,
        sessionId,
        pending.map(({ message }) => message),
        { quiet },
      );
      const run = (target: EntityManager) => query<MessageRow>(target, statement.text, statement.values);
      // Inside a caller's transaction a statement storing idempotency keys gets a savepoint of its
      // own, so a reused key fails only the statement, not the caller's whole transaction. Without
      // keys there is no failure to recover from here (any error ends the caller's transaction
      // anyway), so no savepoint: two round trips fewer on the conversation loop's answer path.
      const keyed = pending.some(({ message }) => message.clientMessageId != null);
      const rows = keyed && em.isInTransaction() ? await em.transactional(run) : await run(em);
      if (rows.length === 0) throw await whyNothingWasStored(em, owner, sessionId, pending, fieldOf);
      // Rows come back by seq, which follows the order of `pending`.
      rows.forEach((row, i) => (results[pending[i]!.index] = toMessage(row)));
      if (quiet) announce!({ sessionId, owner });
      return results;
    } catch (error) {
      if (!(error instanceof UniqueConstraintViolationException && constraintOf(error) === CLIENT_MESSAGE_ID_UNIQUE)) {
        throw error;
      }
    }
    const keys = pending.flatMap(({ message }) => message.clientMessageId ?? []);
    const stored = await findByClientMessageIds(em, owner, sessionId, keys);
    // Only a session deleted meanwhile hides the key that just collided.
    if (stored.length === 0) throw notFound('session');
    for (const row of stored) {
      const entry = pending.find(({ message }) => message.clientMessageId === row.client_message_id)!;
      if (row.deleted) {
        throw new DomainError('CONFLICT', `clientMessageId ${row.client_message_id} belongs to a deleted message`, {
          clientMessageId: row.client_message_id,
        });
      }
      if (row.request_hash !== entry.message.requestHash) {
        throw new DomainError(
          'CONFLICT',
          `clientMessageId ${row.client_message_id} is already used by a different message`,
          { clientMessageId: row.client_message_id, seq: Number(row.seq) },
        );
      }
      results[entry.index] = toMessage(row);
    }
    pending = pending.filter(({ index }) => results[index] === undefined);
    if (pending.length === 0) return results;
  }
}

function constraintOf(error: UniqueConstraintViolationException): unknown {
  return (error as { constraint?: unknown }).constraint;
}

/**
 * How fresh `last_activity_at` is kept by appends. It is the one indexed column an append would
 * change (three indexes: the activity listings and retention's), and changing an indexed column
 * rules out a HOT update: every append used to write a new entry into each of the session's
 * indexes. Moved forward at most once a minute, the session row's update is HOT for every other
 * append of a conversation in progress, adding no index entries at all (the table leaves room on
 * each page for that: fillfactor 70). "Recent conversations" order to the minute, and retention
 * counts inactivity in days; `last_message_at` (not indexed) stays exact.
 */
export const ACTIVITY_RESOLUTION_SECONDS = 60;

/**
 * The whole append as one statement, so it needs one round trip and no explicit transaction:
 *  1. `session` bumps the session's `last_seq` by the number of messages, if the session is the
 *     actor's, not deleted, and every `parentId` is a visible message of it (`parentCheck`). The row lock this
 *     UPDATE takes queues concurrent appends to the session, which makes seqs gapless: each
 *     append sees the `last_seq` the previous one committed. Zero rows: nothing else happens.
 *  2. `inserted` writes the messages with `last_seq - n + 1 … last_seq`, in the given order.
 *  3. `queued` hands the new ids to the search indexer (full-text indexing happens off this path,
 *     in the worker, a few seconds later; see ChatMessageSearchSchema).
 *  4. `audit` records the append in the same statement, so it commits with it or not at all.
 * If any part fails (a reused idempotency key), PostgreSQL undoes all of it.
 *
 * `quiet`: the statement tells the session's `announce_change` trigger (a transaction-local
 * `threadstore.announce = off`) not to NOTIFY, and the caller announces the change once the
 * statement has committed. Why: a transaction that NOTIFYs takes one cluster-wide lock at commit
 * and keeps it until its commit record is flushed to disk (PostgreSQL serializes notifying
 * commits so the queue stays in commit order), so appends that notify commit one fsync at a
 * time, never in a group: under load every pooled connection waited on that lock
 * (`Lock:object` in pg_stat_activity), one slow WAL flush stalled every append, and reads
 * queued behind them for a connection (bench/results/capacity-2026-12-07.md). Announced after
 * the commit, in batches, appends group-commit again.
 * `updated_at` is set here, as the ORM does, so the session's `touch_updated_at` trigger (which
 * only fills in a column an UPDATE left unchanged) is skipped by its WHEN clause, not called.
 * Exported so the benchmark's bare-`pg` baseline runs exactly this SQL.
 */
export function appendStatement(
  actor: Actor,
  action: string,
  sessionId: string,
  messages: readonly PreparedMessage[],
  { quiet = false }: { quiet?: boolean } = {},
): { text: string; values: unknown[] } {
  const { values, bind } = bindings();
  const column = <K extends keyof PreparedMessage>(key: K, type: string) =>
    `${bind(messages.map((message) => message[key]))}::${type}[]`;
  const count = bind(messages.length);
  const parents = column('parentId', 'uuid');
  // Columns most appends leave null are bound only when a message of the batch has them: a plain
  // text append runs the very statement it ran before parts and edits existed (and so keeps its
  // prepared plan), and a parts append one more array. Each shape is one fixed text.
  const optional = (['parts', 'editOf'] as const).filter((key) => messages.some((message) => message[key] !== null));
  const optionalColumns = optional.map((key) => (key === 'parts' ? 'parts' : 'edit_of'));
  const optionalArrays = optional.map((key) => column(key, key === 'parts' ? 'json' : 'uuid'));
  const extra = (prefix: string) => optionalColumns.map((name) => `, ${prefix}${name}`).join('');
  const text = `
    with session as (
      update chat_sessions s
         set last_seq = s.last_seq + ${count}, message_count = s.message_count + ${count},
             last_message_at = now(), updated_at = now(),
             last_activity_at = case when s.last_activity_at > now() - interval '${ACTIVITY_RESOLUTION_SECONDS} seconds'
                                     then s.last_activity_at else now() end
       where s.id = ${bind(sessionId)} and s.deleted_at is null and ${ownedBy('s', ownerOf(actor.principal), bind)}${parentCheck(
         messages,
         bind,
       )}${
         // Evaluated while the row is updated, so set before the row's AFTER trigger fires
         // (at the end of the statement); local to this statement's own transaction.
         quiet ? `\n         and set_config('threadstore.announce', 'off', true) = 'off'` : ''
       }
      returning s.id, s.last_seq - ${count} as seq_before
    ), inserted as (
      insert into chat_messages as m (id, session_id, seq, parent_id, role, content, chapter, citations, tool_calls,
        metadata, model, prompt_tokens, completion_tokens, cost, latency_ms, agent_id, client_message_id, request_hash,
        sanitized${extra('')})
      select x.id, session.id, session.seq_before + x.position, x.parent_id, x.role, x.content, x.chapter, x.citations,
             x.tool_calls, x.metadata, x.model, x.prompt_tokens, x.completion_tokens, x.cost, x.latency_ms, x.agent_id,
             x.client_message_id, x.request_hash, x.sanitized${extra('x.')}
        from session,
             unnest(${column('id', 'uuid')}, ${parents}, ${column('role', 'text')}, ${column('content', 'text')},
                    ${column('chapter', 'text')}, ${column('citations', 'jsonb')}, ${column('toolCalls', 'jsonb')},
                    ${column('metadata', 'jsonb')}, ${column('model', 'text')}, ${column('promptTokens', 'int')},
                    ${column('completionTokens', 'int')}, ${column('cost', 'numeric')}, ${column('latencyMs', 'int')},
                    ${column('agentId', 'text')}, ${column('clientMessageId', 'text')},
                    ${column('requestHash', 'text')}, ${column('sanitized', 'boolean')}${optionalArrays
                      .map((array) => `, ${array}`)
                      .join('')})
             with ordinality as x(id, parent_id, role, content, chapter, citations, tool_calls, metadata, model,
                                  prompt_tokens, completion_tokens, cost, latency_ms, agent_id, client_message_id,
                                  request_hash, sanitized${extra('')}, position)
      returning ${MESSAGE_COLUMNS}
    ), queued as (
      insert into chat_message_search_queue (message_id) select id from inserted
    ), audit as (
      ${auditInsert(actor, action, bind, {
        subjectType: 'session',
        subjectId: 'session.id::text',
        details: `jsonb_build_object('count', i.count, 'firstSeq', i.first_seq, 'lastSeq', i.last_seq)`,
        from: 'session, (select count(*) as count, min(seq) as first_seq, max(seq) as last_seq from inserted) as i',
      })}
    )
    select * from inserted order by seq`;
  return { text, values };
}

/**
 * The append's condition "every `parentId` of the batch is a visible message of session `s`", in
 * the cheapest shape for the parents the batch has: none (most appends), one (an answer, an edit,
 * a branch), or several.
 *
 * Why shapes: the append runs as a named prepared statement, and after five executions PostgreSQL
 * keeps a generic plan (no planning at all) only if that plan's estimated cost is no higher than
 * the custom plans' average plus their planning. A generic plan cannot see how long a bound array
 * is and guesses ten elements, so the check written over `unnest($parents)` was costed as ten
 * index probes (~83 of the plan's ~93) against ~17 for the whole custom plan: the server planned
 * the statement on every append, about 0.3 ms of its 0.8 ms of CPU
 * (bench/results/append-cpu-2026-12-07c.md). Without parents there is nothing to check; one parent is
 * one scalar probe, costed as what it is. Several distinct parents (batches only) keep the array
 * form and its planning.
 */
function parentCheck(messages: readonly PreparedMessage[], bind: Bind): string {
  const parentIds = [...new Set(messages.flatMap((message) => message.parentId ?? []))];
  if (parentIds.length === 0) return '';
  if (parentIds.length === 1) {
    return `
         and exists (
           select from chat_messages p
            where p.id = ${bind(parentIds[0])}::uuid and p.session_id = s.id and p.deleted_at is null)`;
  }
  return `
         and not exists (
           select from unnest(${bind(parentIds)}::uuid[]) as wanted(parent_id)
            where not exists (
              select from chat_messages p
               where p.id = wanted.parent_id and p.session_id = s.id and p.deleted_at is null))`;
}

/** Why the append statement wrote nothing: the session is not the actor's (or is deleted), or a parent is wrong. */
async function whyNothingWasStored(
  em: EntityManager,
  owner: Owner,
  sessionId: string,
  pending: readonly Pending[],
  fieldOf: Batch['fieldOf'],
): Promise<DomainError> {
  const { values, bind } = bindings();
  const [found] = await query<{ session: boolean; parents: string[] }>(
    em,
    `select exists (select from chat_sessions s
                     where s.id = ${bind(sessionId)} and s.deleted_at is null and ${ownedBy('s', owner, bind)}) as session,
            array(select p.id::text from chat_messages p
                   where p.id = any(${bind(pending.map(({ message }) => message.parentId))}::uuid[])
                     and p.session_id = ${bind(sessionId)} and p.deleted_at is null) as parents`,
    values,
  );
  if (found?.session !== true) return notFound('session');
  const valid = new Set(found.parents);
  const wrong = pending.find(({ message }) => message.parentId !== null && !valid.has(message.parentId));
  const field = fieldOf(wrong?.index ?? 0, 'parentId');
  return new DomainError('BAD_REQUEST', `${field} must be a visible message of the same session`, { field });
}

async function findByClientMessageIds(
  em: EntityManager,
  owner: Owner,
  sessionId: string,
  keys: readonly string[],
): Promise<(MessageRow & { request_hash: string | null; deleted: boolean })[]> {
  const { values, bind } = bindings();
  return query(
    em,
    `select ${MESSAGE_COLUMNS}, m.request_hash, m.deleted_at is not null as deleted
       from chat_messages m
       join chat_sessions s on s.id = m.session_id
      where m.session_id = ${bind(sessionId)} and m.client_message_id = any(${bind(keys)}::text[])
        and s.deleted_at is null and ${ownedBy('s', owner, bind)}`,
    values,
  );
}
