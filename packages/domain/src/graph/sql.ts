import type { TEntity, TRelationship } from '@threadstore/contract';
import type { Bind } from '../messages/sql.ts';
import type { Graph } from './scope.ts';

// All SQL of the entity graph that bypasses the ORM. Every value is a bound parameter; ids never
// enter the SQL text. Every statement reaches nodes through `inGraph` or an owner test, so
// another principal's node answers exactly like a missing one.

const iso = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** What statements select about a node `alias`, in the shape `toEntity` maps. */
export const nodeColumns = (alias: string) =>
  `${alias}.id, ${alias}.project_id, ${alias}.type, ${alias}.name, ${alias}.canonical_key, ${alias}.aliases,
   ${alias}.properties, ${iso(`${alias}.created_at`)} as created_at, ${iso(`${alias}.updated_at`)} as updated_at`;

export interface NodeRow {
  id: string;
  project_id: string | null;
  type: string;
  name: string;
  canonical_key: string;
  aliases: string[];
  properties: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

export function toEntity(row: NodeRow): TEntity {
  return {
    id: row.id,
    projectId: row.project_id,
    type: row.type,
    name: row.name,
    canonicalKey: row.canonical_key,
    aliases: row.aliases,
    properties: row.properties,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** What statements select (or return) about a relationship `alias`, in the shape `toRelationship` maps. */
export const edgeColumns = (alias: string) =>
  `${alias}.id, ${alias}.source_id, ${alias}.target_id, ${alias}.type, ${alias}.weight::float8 as weight,
   ${alias}.properties, ${alias}.evidence_message_ids, ${alias}.evidence_investigation_ids, ${alias}.evidence_urls,
   ${iso(`${alias}.valid_from`)} as valid_from, ${iso(`${alias}.valid_to`)} as valid_to,
   ${iso(`${alias}.created_at`)} as created_at, ${iso(`${alias}.updated_at`)} as updated_at`;

export interface EdgeRow {
  id: string;
  source_id: string;
  target_id: string;
  type: string;
  weight: number;
  properties: Record<string, unknown>;
  evidence_message_ids: string[];
  evidence_investigation_ids: string[];
  evidence_urls: string[];
  valid_from: string | null;
  valid_to: string | null;
  created_at: string;
  updated_at: string;
}

export function toRelationship(row: EdgeRow): TRelationship {
  return {
    id: row.id,
    sourceId: row.source_id,
    targetId: row.target_id,
    type: row.type,
    weight: row.weight,
    properties: row.properties,
    evidence: {
      messageIds: row.evidence_message_ids,
      investigationIds: row.evidence_investigation_ids,
      urls: row.evidence_urls,
    },
    validFrom: row.valid_from,
    validTo: row.valid_to,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * "Node `alias` is in `graph`": its owner, and its project or none. Written as two plain
 * equalities (not IS NOT DISTINCT FROM, which no index serves) so the identity index applies.
 */
export function inGraph(alias: string, graph: Graph, bind: Bind): string {
  const project =
    graph.projectId === null ? `${alias}.project_id is null` : `${alias}.project_id = ${bind(graph.projectId)}`;
  return `${alias}.owner_id = ${bind(graph.ownerId)} and ${project}`;
}

/** The sorted, duplicate-free union of two text arrays: evidence lists, each item once. */
export const arrayUnion = (left: string, right: string) =>
  `array(select distinct item from unnest(${left} || ${right}) as item order by item)`;

/**
 * The live node each of `ids` stands for (itself, or the survivor it was merged into), with the
 * graph it belongs to, for ids the owner owns. Ids of other owners' nodes are simply absent.
 */
export const RESOLVE_NODES = `
  select given.id as given_id, ${nodeColumns('live')}
    from entity_nodes given
    join entity_nodes live on live.id = coalesce(given.merged_into_id, given.id)
   where given.id = any($1::uuid[]) and given.owner_id = $2`;

/**
 * One step of a breadth-first walk: every edge leaving (or, backwards, entering) the frontier,
 * as (node walked from, node reached, edge). Both directions read an index alone: the unique
 * (source, target, type) key forwards, (target, source, type) backwards. LIMIT caps what one step
 * may hand back, so a walk through hubs stops with a clear error instead of filling memory.
 * Parameters: the frontier, then the relationship types when `typed`, then the LIMIT.
 */
export function stepStatement(direction: 'out' | 'in' | 'both', typed: boolean): string {
  const typeTest = typed ? ' and e.type = any($2::text[])' : '';
  const out = `select e.source_id as from_id, e.target_id as to_id, e.id as edge_id
                 from entity_relationships e where e.source_id = any($1::uuid[])${typeTest}`;
  const back = `select e.target_id as from_id, e.source_id as to_id, e.id as edge_id
                  from entity_relationships e where e.target_id = any($1::uuid[])${typeTest}`;
  const body = direction === 'out' ? out : direction === 'in' ? back : `${out} union all ${back}`;
  return `${body} limit ${typed ? '$3' : '$2'}`;
}

export interface StepRow {
  from_id: string;
  to_id: string;
  edge_id: string;
}
