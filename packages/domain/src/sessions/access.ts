import { ChatSessionSchema, LockMode, type ChatSession, type EntityManager } from '@threadstore/db';
import { notFound } from '../errors.ts';
import { ownerFilter, type Owner } from '../principal.ts';

/**
 * The session `id` if `owner` owns it, else NOT_FOUND: the same answer for a foreign id as for
 * one that never existed. Soft-deleted sessions are found only when asked for (restore, purge).
 * The only way any domain function reaches a session by id.
 *
 * `forUpdate` (inside a transaction) locks the row until commit and reads it fresh, so what the
 * caller checks (status, version) cannot change before it writes.
 */
export async function findOwnedSession(
  em: EntityManager,
  owner: Owner,
  id: string,
  { includeDeleted = false, forUpdate = false }: { includeDeleted?: boolean; forUpdate?: boolean } = {},
): Promise<ChatSession> {
  const session = await em.findOne(
    ChatSessionSchema,
    { id, ...ownerFilter(owner), ...(includeDeleted ? {} : { deletedAt: null }) },
    forUpdate ? { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true } : {},
  );
  if (session === null) throw notFound('session');
  return session;
}
