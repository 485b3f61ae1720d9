import { ChatSessionSchema, type ChatSession, type EntityManager } from '@threadstore/db';
import { notFound } from '../errors.ts';
import { ownerFilter, type Owner } from '../principal.ts';

/**
 * The session `id` if `owner` owns it, else NOT_FOUND: the same answer for a foreign id as for
 * one that never existed. Soft-deleted sessions are found only when asked for (restore, purge).
 * The only way any domain function reaches a session by id.
 */
export async function findOwnedSession(
  em: EntityManager,
  owner: Owner,
  id: string,
  { includeDeleted = false }: { includeDeleted?: boolean } = {},
): Promise<ChatSession> {
  const session = await em.findOne(ChatSessionSchema, {
    id,
    ...ownerFilter(owner),
    ...(includeDeleted ? {} : { deletedAt: null }),
  });
  if (session === null) throw notFound('session');
  return session;
}
