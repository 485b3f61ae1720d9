import type { TSession } from '@threadstore/contract';
import type { EntityManager } from '@threadstore/db';
import type { Actor } from '../principal.ts';
import { changeOwnedSession } from './change.ts';

// Archiving only files a session away from the default listing: it is not activity, so
// last_activity_at (and with it the listing order and retention's clock) stays as it was.
// Both are idempotent, so a retried call succeeds.

export async function archiveSession(em: EntityManager, actor: Actor, id: string): Promise<TSession> {
  return changeOwnedSession(em, actor, id, 'sessions.archive', (session) => {
    if (session.archivedAt) return null;
    session.archivedAt = new Date();
    return {};
  });
}

export async function unarchiveSession(em: EntityManager, actor: Actor, id: string): Promise<TSession> {
  return changeOwnedSession(em, actor, id, 'sessions.unarchive', (session) => {
    if (!session.archivedAt) return null;
    session.archivedAt = null;
    return {};
  });
}
