import type { TRestoreMessageOutput, TUndoClearOutput } from '@threadstore/contract';
import type { EntityManager } from '@threadstore/db';
import { notFound } from '../errors.ts';
import { ownerOf, type Actor } from '../principal.ts';
import { setMessageDeleted } from './remove.ts';
import { auditInsert, bindings, ownedBy, query } from './sql.ts';

// The inverses of remove.ts: each puts back exactly what its counterpart hid and adds it to
// `message_count` again. A soft-deleted message stays stored for its grace period (the retention
// policy `soft_deleted`); once retention has purged it there is nothing left to bring back, and
// the message answers NOT_FOUND like any other missing one.

/**
 * Brings back a soft-deleted message of a session of the actor's. `restored` is false when it
 * was not deleted (a retried restore is harmless). Its clientMessageId was never released, so
 * no other message can hold it meanwhile.
 */
export async function restoreMessage(em: EntityManager, actor: Actor, id: string): Promise<TRestoreMessageOutput> {
  return { restored: await setMessageDeleted(em, actor, id, false) };
}

/**
 * Undoes a messages.clear of a session of the actor's: the messages it hid (all of them carry
 * the clear's own `deleted_at`) come back, except those deleted again or purged since. A clear
 * is undone once; undoing it again restores nothing. NOT_FOUND for a clear that is not the
 * actor's, or whose session is deleted.
 */
export async function undoClear(em: EntityManager, actor: Actor, clearId: string): Promise<TUndoClearOutput> {
  const { values, bind } = bindings();
  // Two concurrent undos: `undone` locks the clear's row; the second waits, then finds
  // `undone_at` set and restores nothing.
  const [result] = await query<{ found: boolean; restored: number }>(
    em,
    `with clear as (
       select c.id, c.session_id, c.chapter, c.cleared_at
         from message_clears c
         join chat_sessions s on s.id = c.session_id
        where c.id = ${bind(clearId)} and s.deleted_at is null and ${ownedBy('s', ownerOf(actor.principal), bind)}
     ), undone as (
       update message_clears c set undone_at = now()
         from clear
        where c.id = clear.id and c.undone_at is null
       returning c.id, c.session_id, c.chapter, c.cleared_at
     ), shown as (
       update chat_messages m set deleted_at = null
         from undone
        where m.session_id = undone.session_id and m.deleted_at = undone.cleared_at
          and (undone.chapter is null or m.chapter = undone.chapter)
       returning m.id
     ), tally as (
       select count(*) as count from shown
     ), counted as (
       update chat_sessions s set message_count = s.message_count + tally.count, last_activity_at = now()
         from undone, tally
        where s.id = undone.session_id and tally.count > 0
     ), audit as (
       ${auditInsert(actor, 'messages.undoClear', bind, {
         subjectType: 'session',
         subjectId: 'undone.session_id::text',
         details: `jsonb_build_object('clearId', undone.id, 'restored', tally.count)`,
         from: 'undone, tally',
       })}
     )
     select exists (select from clear) as found, (select count::int from tally) as restored`,
    values,
  );
  if (result?.found !== true) throw notFound('clear');
  return { restored: result.restored };
}
