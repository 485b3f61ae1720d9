import type { TSession } from '@threadstore/contract';
import type { EntityManager } from '@threadstore/db';
import type { Owner } from '../principal.ts';
import { findOwnedSession } from './access.ts';
import { toSessionDto } from './dto.ts';

/** The caller's live (not deleted) session. */
export async function getSession(em: EntityManager, owner: Owner, id: string): Promise<TSession> {
  return toSessionDto(await findOwnedSession(em, owner, id));
}
