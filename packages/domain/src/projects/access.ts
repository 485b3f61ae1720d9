import { LockMode, ProjectSchema, type EntityManager, type Project } from '@threadstore/db';
import { DomainError, notFound } from '../errors.ts';
import type { Principal } from '../principal.ts';

/** The signed-in user behind `principal`; anonymous visitors own no projects, knowledge or memories. */
export function userIdOf(principal: Principal): string {
  if (principal.kind === 'anonymous')
    throw new DomainError('UNAUTHORIZED', 'sign in first: anonymous visitors cannot do this');
  return principal.userId;
}

/**
 * The project `id` if `userId` owns it and it is not deleted, else NOT_FOUND: the same answer for
 * a foreign id as for one that never existed. The only way any domain function reaches a project
 * by id. `forUpdate` (inside a transaction) locks the row until commit and reads it fresh.
 */
export async function findOwnedProject(
  em: EntityManager,
  userId: string,
  id: string,
  { forUpdate = false }: { forUpdate?: boolean } = {},
): Promise<Project> {
  const project = await em.findOne(
    ProjectSchema,
    { id, owner: userId, deletedAt: null },
    forUpdate ? { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true } : {},
  );
  if (project === null) throw notFound('project');
  return project;
}

/** Checks that an optional project id names one of the caller's projects (else NOT_FOUND). */
export async function checkOwnedProject(
  em: EntityManager,
  userId: string,
  id: string | null | undefined,
): Promise<void> {
  if (id !== undefined && id !== null) await findOwnedProject(em, userId, id);
}
