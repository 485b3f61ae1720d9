import type { TSession } from '@threadstore/contract';
import type { ChatSession, EntityManager } from '@threadstore/db';
import { recordAudit } from '../audit.ts';
import { ownerOf, type Actor } from '../principal.ts';
import { findOwnedSession } from './access.ts';
import { toSessionDto } from './dto.ts';

/**
 * What a change did, for the audit row; null when there was nothing to do (archiving an
 * archived session), which writes nothing at all.
 */
export type ChangeDetails = Record<string, unknown> | null;

/**
 * Applies `change` to the caller's session in one transaction with its audit row. The row is
 * locked before `change` sees it, so checks on its status or version hold until the write: two
 * concurrent calls run one after the other, the second seeing the first one's result. Every
 * write bumps `version`. A failed check (a thrown DomainError) leaves the session untouched.
 */
export async function changeOwnedSession(
  em: EntityManager,
  actor: Actor,
  id: string,
  action: string,
  change: (session: ChatSession, tx: EntityManager) => ChangeDetails | Promise<ChangeDetails>,
  { includeDeleted = false }: { includeDeleted?: boolean } = {},
): Promise<TSession> {
  return em.transactional(async (tx) => {
    const session = await findOwnedSession(tx, ownerOf(actor.principal), id, { includeDeleted, forUpdate: true });
    const details = await change(session, tx);
    if (details !== null) recordAudit(tx, actor, { action, subjectType: 'session', subjectId: id, details });
    // Flushed here rather than at commit, so the DTO carries the new version and timestamps.
    await tx.flush();
    return toSessionDto(session);
  });
}
