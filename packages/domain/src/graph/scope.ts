import { ProjectSchema, type EntityManager } from '@threadstore/db';
import { DomainError, notFound } from '../errors.ts';
import type { Principal } from '../principal.ts';

/** Which graph: an owner's, within one of their projects or outside any. */
export interface Graph {
  ownerId: string;
  projectId: string | null;
}

/**
 * The user a graph or investigation belongs to. Anonymous visitors have neither (they have no
 * projects and no lasting identity to keep research under); the procedures let only users and
 * their API keys in, and this says why if anything else gets here.
 */
export function ownerIdOf(principal: Principal): string {
  if (principal.kind === 'anonymous') {
    throw new DomainError('UNAUTHORIZED', 'sign in first: anonymous visitors have no entity graph or investigations');
  }
  return principal.userId;
}

/**
 * The caller's graph in `projectId` (or outside any project). A project that is not the
 * caller's, deleted or missing is NOT_FOUND alike.
 */
export async function graphOf(em: EntityManager, principal: Principal, projectId: string | undefined): Promise<Graph> {
  const ownerId = ownerIdOf(principal);
  if (projectId === undefined) return { ownerId, projectId: null };
  await assertOwnProject(em, ownerId, projectId);
  return { ownerId, projectId };
}

/** NOT_FOUND unless `projectId` is a live project of `ownerId`. */
export async function assertOwnProject(em: EntityManager, ownerId: string, projectId: string): Promise<void> {
  const project = await em.findOne(ProjectSchema, { id: projectId, owner: ownerId, deletedAt: null });
  if (project === null) throw notFound('project');
}
