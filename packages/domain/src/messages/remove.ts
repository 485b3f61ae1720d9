import type { TClearMessagesInput } from '@threadstore/contract';
import type { EntityManager } from '@threadstore/db';
import { notFound } from '../errors.ts';
import { ownerOf, type Actor } from '../principal.ts';
import { auditInsert, bindings, ownedBy, query } from './sql.ts';

// `message_count` counts a session's visible messages: appends add to it, deleting and clearing
// take away exactly the messages they hide. `last_seq` never goes back, so no seq is used twice.

/**
 * Soft-deletes a message of a session of the actor's. `deleted` is false when it already was
 * (a retried delete is harmless); NOT_FOUND when it is not the actor's or does not exist.
 */
export async function deleteMessage(em: EntityManager, actor: Actor, id: string): Promise<{ deleted: boolean }> {
  return { deleted: await setMessageDeleted(em, actor, id, true) };
}

/**
 * Hides (`deleted`) or shows again one message of a session of the actor's, with its count and
 * its audit row in the same statement; whether anything changed. NOT_FOUND when the message is
 * not the actor's or does not exist (any more). messages.delete and messages.restore.
 */
export async function setMessageDeleted(
  em: EntityManager,
  actor: Actor,
  id: string,
  deleted: boolean,
): Promise<boolean> {
  const { values, bind } = bindings();
  // Concurrent calls on one message: the second waits for the first's row lock, then finds
  // `deleted_at` already as it wants it and changes nothing, so the count moves once.
  const [result] = await query<{ found: boolean; changed: boolean }>(
    em,
    `with target as (
       select m.id
         from chat_messages m
         join chat_sessions s on s.id = m.session_id
        where m.id = ${bind(id)} and s.deleted_at is null and ${ownedBy('s', ownerOf(actor.principal), bind)}
     ), changed as (
       update chat_messages m set deleted_at = ${deleted ? 'now()' : 'null'}
         from target
        where m.id = target.id and m.deleted_at is ${deleted ? 'null' : 'not null'}
       returning m.id, m.session_id, m.seq
     ), counted as (
       update chat_sessions s set message_count = s.message_count ${deleted ? '-' : '+'} 1, last_activity_at = now()
         from changed
        where s.id = changed.session_id
     ), audit as (
       ${auditInsert(actor, deleted ? 'messages.delete' : 'messages.restore', bind, {
         subjectType: 'message',
         subjectId: 'changed.id::text',
         details: `jsonb_build_object('sessionId', changed.session_id, 'seq', changed.seq)`,
         from: 'changed',
       })}
     )
     select exists (select from target) as found, exists (select from changed) as changed`,
    values,
  );
  if (result?.found !== true) throw notFound('message');
  return result.changed;
}

/**
 * Soft-deletes every visible message of a session of the actor's, or of one chapter of it, and
 * returns how many. NOT_FOUND when the session is not the actor's or is deleted.
 */
export async function clearMessages(
  em: EntityManager,
  actor: Actor,
  input: TClearMessagesInput,
): Promise<{ cleared: number; clearId: string | null }> {
  const { values, bind } = bindings();
  const chapter = input.chapter === undefined ? null : bind(input.chapter);
  const [result] = await query<{ found: boolean; cleared: number; clear_id: string | null }>(
    em,
    `with session as (
       select s.id
         from chat_sessions s
        where s.id = ${bind(input.sessionId)} and s.deleted_at is null and ${ownedBy('s', ownerOf(actor.principal), bind)}
     ), hidden as (
       update chat_messages m set deleted_at = now()
         from session
        where m.session_id = session.id and m.deleted_at is null${chapter === null ? '' : ` and m.chapter = ${chapter}`}
       returning m.seq
     ), tally as (
       select count(*) as count from hidden
     ), counted as (
       update chat_sessions s set message_count = s.message_count - tally.count, last_activity_at = now()
         from session, tally
        where s.id = session.id and tally.count > 0
     ), recorded as (
       -- What messages.undoClear needs: every message hidden here has deleted_at = now() exactly.
       insert into message_clears (session_id, chapter, cleared_at, cleared)
       select session.id, ${chapter === null ? 'null' : `${chapter}::text`}, now(), tally.count
         from session, tally where tally.count > 0
       returning id
     ), audit as (
       ${auditInsert(actor, 'messages.clear', bind, {
         subjectType: 'session',
         subjectId: 'session.id::text',
         details: `jsonb_build_object('chapter', ${chapter === null ? 'null' : `${chapter}::text`}, 'count', tally.count,
                   'clearId', recorded.id)`,
         from: 'session, tally, recorded where tally.count > 0',
       })}
     )
     select exists (select from session) as found, (select count::int from tally) as cleared,
            (select id from recorded) as clear_id`,
    values,
  );
  if (result?.found !== true) throw notFound('session');
  return { cleared: result.cleared, clearId: result.clear_id };
}
