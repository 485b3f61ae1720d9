import type {
  ContentLimits,
  TEntity,
  TEntitySearchResult,
  TMergeEntitiesInput,
  TSearchEntitiesInput,
  TUpsertEntityInput,
  TUpsertEntityOutput,
} from '@threadstore/contract';
import { uuidv7, type EntityManager } from '@threadstore/db';
import { recordAudit } from '../audit.ts';
import { DomainError, notFound } from '../errors.ts';
import { bindings, query } from '../messages/sql.ts';
import { pageSize } from '../paging.ts';
import type { Actor, Principal } from '../principal.ts';
import { cleanJsonObject } from '../sessions/content.ts';
import { sanitizeText } from '../content/sanitize.ts';
import { graphOf, ownerIdOf, type Graph } from './scope.ts';
import { arrayUnion, inGraph, nodeColumns, RESOLVE_NODES, toEntity, type NodeRow } from './sql.ts';

/**
 * Creates or updates the node (type, canonical key) of the caller's graph. Concurrent calls
 * for one key make one node: the insert yields to the unique identity index (ON CONFLICT DO
 * NOTHING waits for a concurrent inserter to commit), and the losers update the winner's row
 * under its lock. A key whose node was merged away updates the survivor. A call that changes
 * nothing writes nothing, so retries leave no trace in the audit log either.
 */
export async function upsertEntity(
  em: EntityManager,
  actor: Actor,
  input: TUpsertEntityInput,
  limits: ContentLimits,
): Promise<TUpsertEntityOutput> {
  const graph = await graphOf(em, actor.principal, input.projectId);
  const name = sanitizeText(input.name);
  const aliases = [...new Set((input.aliases ?? []).map(sanitizeText))].filter((alias) => alias !== name);
  const properties = cleanJsonObject(input.properties, 'properties', limits);
  return em.transactional(async (tx) => {
    const insert = bindings();
    const inserted = await query<NodeRow>(
      tx,
      `insert into entity_nodes as n (id, owner_id, project_id, type, canonical_key, name, aliases, properties)
       values (${insert.bind(uuidv7())}, ${insert.bind(graph.ownerId)}, ${insert.bind(graph.projectId)},
               ${insert.bind(input.type)}, ${insert.bind(input.canonicalKey)}, ${insert.bind(name)},
               ${insert.bind(JSON.stringify(aliases))}::jsonb, ${insert.bind(JSON.stringify(properties ?? {}))}::jsonb)
       on conflict do nothing
       returning ${nodeColumns('n')}`,
      insert.values,
    );
    if (inserted[0] !== undefined) {
      const entity = toEntity(inserted[0]);
      recordAudit(tx, actor, {
        action: 'entities.upsert',
        subjectType: 'entity',
        subjectId: entity.id,
        details: { created: true, type: entity.type, projectId: graph.projectId },
      });
      return { entity, created: true };
    }
    // The key is taken (now committed): update the live node it stands for, under its lock.
    const update = bindings();
    const updated = await query<NodeRow & { changed: boolean }>(
      tx,
      `with key as (
         select coalesce(k.merged_into_id, k.id) as id from entity_nodes k
          where ${inGraph('k', graph, update.bind)} and k.type = ${update.bind(input.type)}
            and k.canonical_key = ${update.bind(input.canonicalKey)}
       ), live as (
         select n.* from entity_nodes n join key on key.id = n.id for update of n
       ), wanted as (
         select live.id, ${update.bind(name)}::text as name,
                (select coalesce(jsonb_agg(alias order by alias), '[]'::jsonb)
                   from (select distinct alias from jsonb_array_elements_text(live.aliases || ${update.bind(JSON.stringify(aliases))}::jsonb) as alias) a
                  where alias <> ${update.bind(name)}) as aliases,
                live.properties || ${update.bind(JSON.stringify(properties ?? {}))}::jsonb as properties
           from live
       ), changed as (
         update entity_nodes n set name = w.name, aliases = w.aliases, properties = w.properties
           from wanted w, live
          where n.id = w.id and live.id = w.id
            and (live.name, live.aliases, live.properties) is distinct from (w.name, w.aliases, w.properties)
         returning n.id
       )
       select ${nodeColumns('n')}, exists (select 1 from changed) as changed
         from entity_nodes n join wanted w on w.id = n.id`,
      update.values,
    );
    const row = updated[0];
    if (row === undefined)
      throw new DomainError('CONFLICT', 'the entity was removed while it was being written; retry');
    if (!row.changed) return { entity: toEntity(row), created: false };
    // The final select read the snapshot from before the update; read the row as written.
    const [fresh] = await query<NodeRow>(tx, `select ${nodeColumns('n')} from entity_nodes n where n.id = $1`, [
      row.id,
    ]);
    recordAudit(tx, actor, {
      action: 'entities.upsert',
      subjectType: 'entity',
      subjectId: row.id,
      details: { created: false, type: row.type, projectId: graph.projectId },
    });
    return { entity: toEntity(fresh ?? row), created: false };
  });
}

/** The caller's live nodes for `ids`, each resolved through merges; NOT_FOUND if any is missing or foreign. */
export async function resolveEntities(
  em: EntityManager,
  ownerId: string,
  ids: string[],
): Promise<Map<string, NodeRow>> {
  const rows = await query<NodeRow & { given_id: string }>(em, RESOLVE_NODES, [ids, ownerId]);
  const byGiven = new Map(rows.map(({ given_id, ...node }) => [given_id, node]));
  if (ids.some((id) => !byGiven.has(id))) throw notFound('entity');
  return byGiven;
}

/** The caller's node; a merged node's id answers with its survivor. */
export async function getEntity(em: EntityManager, principal: Principal, id: string): Promise<TEntity> {
  const nodes = await resolveEntities(em, ownerIdOf(principal), [id]);
  return toEntity(nodes.get(id)!);
}

/**
 * Word-prefix search over names and aliases: every word of the query must begin a word of the
 * name or of an alias. Ranked by PostgreSQL's ts_rank (a name match weighs more than an alias
 * match), with an exact name ahead of everything and a name that starts with the query next.
 */
export async function searchEntities(
  em: EntityManager,
  principal: Principal,
  input: TSearchEntitiesInput,
  limits: ContentLimits,
): Promise<TEntitySearchResult> {
  const graph = await graphOf(em, principal, input.projectId);
  const size = pageSize(input.limit, limits);
  // The same split to_tsvector('simple') makes: runs of letters and digits, lower-cased.
  const words = input.query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  if (words.length === 0) {
    throw new DomainError('BAD_REQUEST', 'the query has no letters or digits to search for', { field: 'query' });
  }
  const { values, bind } = bindings();
  const tsQuery = bind(words.map((word) => `${word}:*`).join(' & '));
  const phrase = bind(words.join(' '));
  const rows = await query<NodeRow & { rank: number }>(
    em,
    `select ${nodeColumns('n')},
            (ts_rank(n.search_vector, q)
              + case when lower(n.name) = ${phrase} then 2 when lower(n.name) like ${phrase} || '%' then 1 else 0 end)::float8 as rank
       from entity_nodes n, to_tsquery('simple', ${tsQuery}) q
      where ${inGraph('n', graph, bind)} and n.merged_into_id is null and n.search_vector @@ q
        ${input.types === undefined ? '' : `and n.type = any(${bind(input.types)}::text[])`}
      order by rank desc, n.id
      limit ${bind(size)}`,
    values,
  );
  return { items: rows.map(({ rank, ...row }) => ({ entity: toEntity(row), rank })) };
}

/**
 * Folds `mergedId` into `survivorId`, in one transaction with both nodes locked:
 * - an edge between the two would become a loop and is dropped (named in the audit row);
 * - an edge the survivor already has (same other end and type) absorbs the merged node's edge:
 *   evidence united, each item once; the survivor's weight, properties and span kept;
 * - every other edge is re-pointed at the survivor;
 * - investigations linked to or citing the merged node now name the survivor;
 * - the merged node becomes a tombstone pointing at the survivor (as do nodes merged into it
 *   before), so its id and canonical key keep resolving; its name and aliases become aliases.
 */
export async function mergeEntities(em: EntityManager, actor: Actor, input: TMergeEntitiesInput): Promise<TEntity> {
  const ownerId = ownerIdOf(actor.principal);
  return em.transactional(async (tx) => {
    const locked = await query<NodeRow & { merged_into_id: string | null }>(
      tx,
      `select ${nodeColumns('n')}, n.merged_into_id from entity_nodes n
        where n.id = any($1::uuid[]) and n.owner_id = $2 order by n.id for update`,
      [[input.survivorId, input.mergedId], ownerId],
    );
    const survivor = locked.find((row) => row.id === input.survivorId);
    const merged = locked.find((row) => row.id === input.mergedId);
    if (survivor === undefined || merged === undefined) throw notFound('entity');
    if (survivor.id === merged.id) throw new DomainError('BAD_REQUEST', 'an entity cannot be merged into itself');
    if (survivor.merged_into_id !== null || merged.merged_into_id !== null) {
      throw new DomainError('CONFLICT', 'one of these entities was already merged into another; use the survivor', {
        survivorOf: survivor.merged_into_id ?? merged.merged_into_id,
      });
    }
    if (survivor.project_id !== merged.project_id) {
      throw new DomainError('BAD_REQUEST', 'these entities are in different graphs (projects) and cannot be merged');
    }
    const ids = [merged.id, survivor.id];
    const loops = await query<{ id: string }>(
      tx,
      `delete from entity_relationships
        where (source_id = $1 and target_id = $2) or (source_id = $2 and target_id = $1)
       returning id`,
      ids,
    );
    const absorbed = await query<{ id: string }>(
      tx,
      `with moved as (
         select e.*, case when e.source_id = $1 then $2::uuid else e.source_id end as new_source,
                     case when e.target_id = $1 then $2::uuid else e.target_id end as new_target
           from entity_relationships e
          where e.source_id = $1 or e.target_id = $1
       ), kept as (
         update entity_relationships k
            set evidence_message_ids = ${arrayUnion('k.evidence_message_ids', 'm.evidence_message_ids')},
                evidence_investigation_ids = ${arrayUnion('k.evidence_investigation_ids', 'm.evidence_investigation_ids')},
                evidence_urls = ${arrayUnion('k.evidence_urls', 'm.evidence_urls')}
           from moved m
          where k.source_id = m.new_source and k.target_id = m.new_target and k.type = m.type
         returning m.id
       )
       delete from entity_relationships where id in (select id from kept) returning id`,
      ids,
    );
    const moved = await query<{ id: string }>(
      tx,
      `update entity_relationships
          set source_id = case when source_id = $1 then $2::uuid else source_id end,
              target_id = case when target_id = $1 then $2::uuid else target_id end
        where source_id = $1 or target_id = $1
       returning id`,
      ids,
    );
    await query(
      tx,
      `with relinked as (
         insert into investigation_entities (investigation_id, node_id)
         select investigation_id, $2::uuid from investigation_entities where node_id = $1::uuid
         on conflict do nothing
       )
       delete from investigation_entities where node_id = $1`,
      ids,
    );
    await query(
      tx,
      `update investigation_findings
          set evidence_entity_ids = array(select distinct case when item = $1::text then $2::text else item end
                                            from unnest(evidence_entity_ids) as item order by 1)
        where $1::text = any(evidence_entity_ids)`,
      ids,
    );
    await query(
      tx,
      `update entity_nodes set merged_into_id = $2::uuid where id = $1::uuid or merged_into_id = $1::uuid`,
      ids,
    );
    const [result] = await query<NodeRow>(
      tx,
      `update entity_nodes n
          set aliases = (select coalesce(jsonb_agg(alias order by alias), '[]'::jsonb)
                           from (select distinct alias
                                   from jsonb_array_elements_text(n.aliases || $2::jsonb || jsonb_build_array($3::text)) as alias) a
                          where alias <> n.name),
              properties = $4::jsonb || n.properties
        where n.id = $1
       returning ${nodeColumns('n')}`,
      [survivor.id, JSON.stringify(merged.aliases), merged.name, JSON.stringify(merged.properties)],
    );
    recordAudit(tx, actor, {
      action: 'entities.merge',
      subjectType: 'entity',
      subjectId: survivor.id,
      details: {
        mergedId: merged.id,
        movedRelationships: moved.length,
        absorbedRelationships: absorbed.map((row) => row.id),
        droppedLoops: loops.map((row) => row.id),
      },
    });
    return toEntity(result!);
  });
}

export type { Graph };
