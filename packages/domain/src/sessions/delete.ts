import type { TPurgeSessionOutput, TSession } from '@threadstore/contract';
import { ChatMessageSchema, ChatMessageSearchSchema, ChatSessionSchema, type EntityManager } from '@threadstore/db';
import { recordAudit } from '../audit.ts';
import { ownerOf, type Actor } from '../principal.ts';
import { findOwnedSession } from './access.ts';
import { changeOwnedSession } from './change.ts';

// Soft deletion sets deleted_at and nothing else (the run status stays; see lifecycle.ts): the
// session leaves every listing but the bin, and every procedure but restore and purge answers
// NOT_FOUND for it. Retention removes it for good after its grace period. Deleting and restoring
// are idempotent, so a retried call succeeds.

export async function deleteSession(em: EntityManager, actor: Actor, id: string): Promise<TSession> {
  return changeOwnedSession(
    em,
    actor,
    id,
    'sessions.delete',
    (session) => {
      if (session.deletedAt) return null;
      session.deletedAt = new Date();
      return {};
    },
    { includeDeleted: true },
  );
}

export async function restoreSession(em: EntityManager, actor: Actor, id: string): Promise<TSession> {
  return changeOwnedSession(
    em,
    actor,
    id,
    'sessions.restore',
    (session) => {
      if (!session.deletedAt) return null;
      session.deletedAt = null;
      return {};
    },
    { includeDeleted: true },
  );
}

/**
 * Removes the session and all its messages for good, deleted or not. The row lock makes
 * concurrent appends wait and then find no session, rather than add to one being purged.
 */
export async function purgeSession(em: EntityManager, actor: Actor, id: string): Promise<TPurgeSessionOutput> {
  return em.transactional(async (tx) => {
    await findOwnedSession(tx, ownerOf(actor.principal), id, { includeDeleted: true, forUpdate: true });
    // The foreign key would cascade too; deleting the messages first is what lets us count them.
    const messagesPurged = await tx.nativeDelete(ChatMessageSchema, { session: id });
    // Their search entries have no foreign key (see ChatMessageSearchSchema): a purge removes them itself.
    await tx.nativeDelete(ChatMessageSearchSchema, { sessionId: id });
    await tx.nativeDelete(ChatSessionSchema, { id });
    recordAudit(tx, actor, {
      action: 'sessions.purge',
      subjectType: 'session',
      subjectId: id,
      details: { messagesPurged },
    });
    return { id, messagesPurged };
  });
}
