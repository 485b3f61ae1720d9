import type {
  ContentLimits,
  TRemoveRelationshipInput,
  TUpsertRelationshipInput,
  TUpsertRelationshipOutput,
} from '@threadstore/contract';
import { CheckConstraintViolationException, uuidv7, type EntityManager } from '@threadstore/db';
import { recordAudit } from '../audit.ts';
import { DomainError, notFound } from '../errors.ts';
import { bindings, query } from '../messages/sql.ts';
import type { Actor } from '../principal.ts';
import { cleanJsonObject } from '../sessions/content.ts';
import { ownerIdOf } from './scope.ts';
import { resolveEntities } from './entities.ts';
import { arrayUnion, edgeColumns, toRelationship, type EdgeRow } from './sql.ts';

/**
 * NOT_FOUND unless every message id is a live message in one of `ownerId`'s sessions and every
 * investigation id one of their live investigations: evidence may not point at others' data.
 */
export async function assertOwnEvidence(
  em: EntityManager,
  ownerId: string,
  { messageIds = [], investigationIds = [] }: { messageIds?: string[]; investigationIds?: string[] },
): Promise<void> {
  if (messageIds.length > 0) {
    const [{ count }] = (await query<{ count: number }>(
      em,
      `select count(*)::int as count from chat_messages m join chat_sessions s on s.id = m.session_id
        where m.id = any($1::uuid[]) and s.user_id = $2 and m.deleted_at is null and s.deleted_at is null`,
      [[...new Set(messageIds)], ownerId],
    )) as [{ count: number }];
    if (count !== new Set(messageIds).size) throw notFound('message');
  }
  if (investigationIds.length > 0) {
    const [{ count }] = (await query<{ count: number }>(
      em,
      `select count(*)::int as count from investigations where id = any($1::uuid[]) and owner_id = $2 and deleted_at is null`,
      [[...new Set(investigationIds)], ownerId],
    )) as [{ count: number }];
    if (count !== new Set(investigationIds).size) throw notFound('investigation');
  }
}

/**
 * Creates the edge source → target of `type`, or updates the one there: weight, properties and
 * the valid span are replaced when given; evidence is united with what the edge has, each item
 * once (a retried call adds nothing). Merged node ids resolve to their survivors. ON CONFLICT on
 * the (source, target, type) key makes concurrent upserts of one edge update it one after the
 * other rather than fail.
 */
export async function upsertRelationship(
  em: EntityManager,
  actor: Actor,
  input: TUpsertRelationshipInput,
  limits: ContentLimits,
): Promise<TUpsertRelationshipOutput> {
  const ownerId = ownerIdOf(actor.principal);
  const properties = cleanJsonObject(input.properties, 'properties', limits);
  const nodes = await resolveEntities(em, ownerId, [input.sourceId, input.targetId]);
  const source = nodes.get(input.sourceId)!;
  const target = nodes.get(input.targetId)!;
  if (source.project_id !== target.project_id) {
    throw new DomainError('BAD_REQUEST', 'the two entities are in different graphs (projects)');
  }
  if (source.id === target.id) {
    throw new DomainError('BAD_REQUEST', 'these two ids are one entity (merged): a node cannot relate to itself');
  }
  const evidence = input.evidence ?? {};
  await assertOwnEvidence(em, ownerId, evidence);
  const { values, bind } = bindings();
  const spanGiven = (value: string | null | undefined) => bind(value !== undefined);
  const sql = `
    insert into entity_relationships as e (id, source_id, target_id, type, weight, properties,
      evidence_message_ids, evidence_investigation_ids, evidence_urls, valid_from, valid_to)
    values (${bind(uuidv7())}, ${bind(source.id)}, ${bind(target.id)}, ${bind(input.type)},
            coalesce(${bind(input.weight ?? null)}::numeric, 1), coalesce(${bind(properties === undefined ? null : JSON.stringify(properties))}::jsonb, '{}'),
            ${bind([...new Set(evidence.messageIds ?? [])].sort())}::text[],
            ${bind([...new Set(evidence.investigationIds ?? [])].sort())}::text[],
            ${bind([...new Set(evidence.urls ?? [])].sort())}::text[],
            ${bind(input.validFrom ?? null)}::timestamptz, ${bind(input.validTo ?? null)}::timestamptz)
    on conflict (source_id, target_id, type) do update set
      weight = coalesce(${bind(input.weight ?? null)}::numeric, e.weight),
      properties = coalesce(${bind(properties === undefined ? null : JSON.stringify(properties))}::jsonb, e.properties),
      evidence_message_ids = ${arrayUnion('e.evidence_message_ids', 'excluded.evidence_message_ids')},
      evidence_investigation_ids = ${arrayUnion('e.evidence_investigation_ids', 'excluded.evidence_investigation_ids')},
      evidence_urls = ${arrayUnion('e.evidence_urls', 'excluded.evidence_urls')},
      valid_from = case when ${spanGiven(input.validFrom)}::boolean then excluded.valid_from else e.valid_from end,
      valid_to = case when ${spanGiven(input.validTo)}::boolean then excluded.valid_to else e.valid_to end
    returning ${edgeColumns('e')}, (xmax = 0) as created`;
  try {
    return await em.transactional(async (tx) => {
      const [row] = await query<EdgeRow & { created: boolean }>(tx, sql, values);
      const { created, ...edge } = row!;
      recordAudit(tx, actor, {
        action: 'relationships.upsert',
        subjectType: 'relationship',
        subjectId: edge.id,
        details: { created, type: edge.type, sourceId: edge.source_id, targetId: edge.target_id },
      });
      return { relationship: toRelationship(edge), created };
    });
  } catch (error) {
    // Only the span can break a CHECK here (the rest is validated above): the new validTo is
    // before the validFrom the edge already has, or the other way round.
    if (error instanceof CheckConstraintViolationException) {
      throw new DomainError('BAD_REQUEST', 'validTo would be before validFrom on this relationship', {
        field: 'validTo',
      });
    }
    throw error;
  }
}

/** Deletes the caller's relationship; NOT_FOUND if it is not theirs or already gone. */
export async function removeRelationship(
  em: EntityManager,
  actor: Actor,
  input: TRemoveRelationshipInput,
): Promise<{ id: string; removed: true }> {
  const ownerId = ownerIdOf(actor.principal);
  return em.transactional(async (tx) => {
    const removed = await query<{ id: string; type: string; source_id: string; target_id: string }>(
      tx,
      `delete from entity_relationships e using entity_nodes n
        where e.id = $1 and n.id = e.source_id and n.owner_id = $2
       returning e.id, e.type, e.source_id, e.target_id`,
      [input.id, ownerId],
    );
    const row = removed[0];
    if (row === undefined) throw notFound('relationship');
    recordAudit(tx, actor, {
      action: 'relationships.remove',
      subjectType: 'relationship',
      subjectId: row.id,
      details: { type: row.type, sourceId: row.source_id, targetId: row.target_id },
    });
    return { id: row.id, removed: true as const };
  });
}
