import type { TInvestigation } from '@threadstore/contract';
import { InvestigationSchema, LockMode, type EntityManager, type Investigation } from '@threadstore/db';
import { notFound } from '../errors.ts';

/**
 * The live investigation `id` if `ownerId` owns it, else NOT_FOUND (the same answer for a
 * foreign id as for a missing one). `forUpdate` locks the row until commit and reads it fresh,
 * so a status checked before a write cannot change under it.
 */
export async function findOwnedInvestigation(
  em: EntityManager,
  ownerId: string,
  id: string,
  { forUpdate = false }: { forUpdate?: boolean } = {},
): Promise<Investigation> {
  const investigation = await em.findOne(
    InvestigationSchema,
    { id, owner: ownerId, deletedAt: null },
    forUpdate ? { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true } : {},
  );
  if (investigation === null) throw notFound('investigation');
  return investigation;
}

const iso = (date: Date | null | undefined): string | null => date?.toISOString() ?? null;

/** The investigation as clients see it: no owner id, timestamps as ISO strings. */
export function toInvestigationDto(investigation: Investigation): TInvestigation {
  return {
    id: investigation.id,
    projectId: investigation.project?.id ?? null,
    sessionId: investigation.session?.id ?? null,
    title: investigation.title,
    query: investigation.query,
    status: investigation.status,
    phase: investigation.phase ?? null,
    confidence:
      investigation.confidence === null || investigation.confidence === undefined
        ? null
        : Number(investigation.confidence),
    summary: investigation.findings,
    error: investigation.error ?? null,
    startedAt: iso(investigation.startedAt),
    completedAt: iso(investigation.completedAt),
    lastProgressAt: iso(investigation.lastProgressAt),
    createdAt: investigation.createdAt.toISOString(),
    updatedAt: investigation.updatedAt.toISOString(),
  };
}
