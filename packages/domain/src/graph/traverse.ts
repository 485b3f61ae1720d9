import type { ContentLimits, TNeighboursInput, TNeighboursPage, TPathInput, TPathOutput } from '@threadstore/contract';
import { DriverException, type EntityManager } from '@threadstore/db';
import * as z from 'zod';
import { DomainError } from '../errors.ts';
import { decodeKeysetCursor, encodeKeysetCursor } from '../keyset-cursor.ts';
import { bindings, query } from '../messages/sql.ts';
import { pageSize } from '../paging.ts';
import type { Principal } from '../principal.ts';
import { resolveEntities } from './entities.ts';
import { ownerIdOf } from './scope.ts';
import {
  edgeColumns,
  nodeColumns,
  stepStatement,
  toEntity,
  toRelationship,
  type EdgeRow,
  type NodeRow,
  type StepRow,
} from './sql.ts';

/**
 * How much one traversal may cost. Time is what a caller waits for; nodes are what the server
 * holds in memory meanwhile. Past either, the walk stops with TIMEOUT, never runs on.
 */
export interface TraversalBudget {
  /** Wall-clock time for the whole walk; also each statement's statement_timeout. */
  timeMs: number;
  /** Nodes the walk may reach (and edges one step may return). */
  maxNodes: number;
}

export const DEFAULT_TRAVERSAL_BUDGET: TraversalBudget = { timeMs: 2_000, maxNodes: 250_000 };

type Direction = TNeighboursInput['direction'];
const REVERSED: Record<Direction, Direction> = { out: 'in', in: 'out', both: 'both' };

function overBudget(budget: TraversalBudget, what: string): DomainError {
  return new DomainError('TIMEOUT', `the walk ${what}; ask for less depth, or filter by relationship type`, {
    budgetMs: budget.timeMs,
    maxNodes: budget.maxNodes,
  });
}

/**
 * Runs a walk in one read-only transaction whose statements each stop at the time left
 * (statement_timeout, set per statement with set_config so a value never enters SQL text), and
 * turns PostgreSQL's cancellation (57014) into TIMEOUT.
 */
async function walk<T>(
  em: EntityManager,
  budget: TraversalBudget,
  body: (
    step: (frontier: string[], direction: Direction, types: string[] | undefined) => Promise<StepRow[]>,
  ) => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + budget.timeMs;
  try {
    return await em.transactional(
      async (tx) => {
        const step = async (frontier: string[], direction: Direction, types: string[] | undefined) => {
          const left = deadline - Date.now();
          if (left <= 0) throw overBudget(budget, `took longer than ${budget.timeMs} ms`);
          await query(tx, `select set_config('statement_timeout', $1, true)`, [String(Math.ceil(left))]);
          const limit = budget.maxNodes + 1;
          const rows = await query<StepRow>(
            tx,
            stepStatement(direction, types !== undefined),
            types === undefined ? [frontier, limit] : [frontier, types, limit],
          );
          if (rows.length > budget.maxNodes)
            throw overBudget(budget, `reached more than ${budget.maxNodes} edges in one step`);
          return rows;
        };
        return body(step);
      },
      { readOnly: true },
    );
  } catch (error) {
    if (error instanceof DriverException && (error as { code?: unknown }).code === '57014') {
      throw overBudget(budget, `took longer than ${budget.timeMs} ms`);
    }
    throw error;
  }
}

/**
 * Breadth-first from the node, level by level: each level is one indexed statement over the
 * whole frontier (not one per node, and not a recursive CTE, which would enumerate every path
 * and explode on cycles and hubs). Each node is kept once, at its shortest distance. The page is
 * then cut from the sorted (depth, id) list, so paging is stable and each page costs the walk.
 */
export async function entityNeighbours(
  em: EntityManager,
  principal: Principal,
  input: TNeighboursInput,
  limits: ContentLimits,
  budget: TraversalBudget = DEFAULT_TRAVERSAL_BUDGET,
): Promise<TNeighboursPage> {
  const ownerId = ownerIdOf(principal);
  const size = pageSize(input.limit, limits);
  const start = (await resolveEntities(em, ownerId, [input.id])).get(input.id)!;
  const binding = JSON.stringify([
    ownerId,
    start.id,
    input.depth,
    input.direction,
    input.relationshipTypes ?? null,
    input.nodeTypes ?? null,
  ]);
  const after = input.cursor === undefined ? null : decodeKeysetCursor(input.cursor, binding, ZPosition);
  const depthOf = await walk(em, budget, async (step) => {
    const depthOf = new Map<string, number>([[start.id, 0]]);
    let frontier = [start.id];
    for (let depth = 1; depth <= input.depth && frontier.length > 0; depth++) {
      const next: string[] = [];
      for (const row of await step(frontier, input.direction, input.relationshipTypes)) {
        if (depthOf.has(row.to_id)) continue;
        depthOf.set(row.to_id, depth);
        next.push(row.to_id);
      }
      if (depthOf.size > budget.maxNodes) throw overBudget(budget, `reached more than ${budget.maxNodes} nodes`);
      frontier = next;
    }
    depthOf.delete(start.id);
    return depthOf;
  });
  // Outside the walk's transaction: it has given its connection back. Without a node-type
  // filter the page is cut here (uuids compare as their lower-case hex does) and only its nodes
  // are read; with one, PostgreSQL filters the whole neighbourhood by type.
  let candidates = [...depthOf].map(([id, depth]) => ({ id, depth }));
  if (after !== null)
    candidates = candidates.filter(
      (node) => node.depth > after.depth || (node.depth === after.depth && node.id > after.id),
    );
  if (input.nodeTypes === undefined) {
    candidates.sort((a, b) => a.depth - b.depth || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    candidates = candidates.slice(0, size + 1);
  }
  const { values, bind } = bindings();
  const rows = await query<NodeRow & { depth: number }>(
    em,
    `select ${nodeColumns('n')}, v.depth
         from unnest(${bind(candidates.map((node) => node.id))}::uuid[], ${bind(candidates.map((node) => node.depth))}::int[]) as v(id, depth)
         join entity_nodes n on n.id = v.id
        where n.owner_id = ${bind(ownerId)}
          ${input.nodeTypes === undefined ? '' : `and n.type = any(${bind(input.nodeTypes)}::text[])`}
        order by v.depth, v.id
        limit ${bind(size + 1)}`,
    values,
  );
  const page = rows.slice(0, size);
  const last = page.at(-1);
  return {
    items: page.map(({ depth, ...row }) => ({ entity: toEntity(row), depth })),
    nextCursor:
      rows.length > size && last !== undefined ? encodeKeysetCursor({ depth: last.depth, id: last.id }, binding) : null,
  };
}

/** One side of a bidirectional search. */
interface Side {
  reached: Map<string, Reached>;
  frontier: string[];
  depth: number;
  direction: Direction;
}

interface Reached {
  /** The node this one was reached from (null for the side's start). */
  from: string | null;
  edge: string | null;
  depth: number;
}

/**
 * A shortest path by bidirectional breadth-first search: the side with the smaller frontier
 * takes the next full level, so a hub costs one step from whichever side meets it and the walk
 * touches about the square root of what a one-sided search would. Visited sets make cycles
 * harmless. The first level at which the sides meet holds a shortest path: of the meeting nodes
 * found in it, the one with the least total distance is taken.
 */
export async function entityPath(
  em: EntityManager,
  principal: Principal,
  input: TPathInput,
  budget: TraversalBudget = DEFAULT_TRAVERSAL_BUDGET,
): Promise<TPathOutput> {
  const ownerId = ownerIdOf(principal);
  const nodes = await resolveEntities(em, ownerId, [input.fromId, input.toId]);
  const from = nodes.get(input.fromId)!;
  const to = nodes.get(input.toId)!;
  if (from.id === to.id) return { found: true, length: 0, nodes: [toEntity(from)], relationships: [] };
  const none: TPathOutput = { found: false, length: 0, nodes: [], relationships: [] };
  if (from.project_id !== to.project_id) return none;

  const chain = await walk(em, budget, async (step) => {
    const side0: Side = {
      reached: new Map([[from.id, { from: null, edge: null, depth: 0 }]]),
      frontier: [from.id],
      depth: 0,
      direction: input.direction,
    };
    const side1: Side = {
      reached: new Map([[to.id, { from: null, edge: null, depth: 0 }]]),
      frontier: [to.id],
      depth: 0,
      direction: REVERSED[input.direction],
    };
    const sides = [side0, side1] as const;
    while (
      sides[0].depth + sides[1].depth < input.maxDepth &&
      sides[0].frontier.length > 0 &&
      sides[1].frontier.length > 0
    ) {
      const [side, other] = side0.frontier.length <= side1.frontier.length ? [side0, side1] : [side1, side0];
      side.depth += 1;
      const next: string[] = [];
      let meeting: { node: string; total: number } | null = null;
      for (const row of await step(side.frontier, side.direction, input.relationshipTypes)) {
        if (side.reached.has(row.to_id)) continue;
        side.reached.set(row.to_id, { from: row.from_id, edge: row.edge_id, depth: side.depth });
        next.push(row.to_id);
        const there = other.reached.get(row.to_id);
        if (there !== undefined && (meeting === null || side.depth + there.depth < meeting.total)) {
          meeting = { node: row.to_id, total: side.depth + there.depth };
        }
      }
      if (sides[0].reached.size + sides[1].reached.size > budget.maxNodes) {
        throw overBudget(budget, `reached more than ${budget.maxNodes} nodes`);
      }
      if (meeting !== null) {
        // From `from` to the meeting node, then on to `to`.
        const forward = trace(sides[0].reached, meeting.node).reverse();
        const backward = trace(sides[1].reached, meeting.node);
        return {
          nodes: [...forward.map((hop) => hop.node), ...backward.slice(1).map((hop) => hop.node)],
          edges: [...forward.slice(1).map((hop) => hop.edge!), ...backward.slice(0, -1).map((hop) => hop.edge!)],
        };
      }
      side.frontier = next;
    }
    return null;
  });
  if (chain === null) return none;

  const [nodeRows, edgeRows] = await Promise.all([
    query<NodeRow>(
      em,
      `select ${nodeColumns('n')} from entity_nodes n where n.id = any($1::uuid[]) and n.owner_id = $2`,
      [chain.nodes, ownerId],
    ),
    query<EdgeRow>(em, `select ${edgeColumns('e')} from entity_relationships e where e.id = any($1::uuid[])`, [
      chain.edges,
    ]),
  ]);
  const nodeById = new Map(nodeRows.map((row) => [row.id, row]));
  const edgeById = new Map(edgeRows.map((row) => [row.id, row]));
  // A node or edge removed between the walk and this read: the path no longer exists as walked.
  if (chain.nodes.some((id) => !nodeById.has(id)) || chain.edges.some((id) => !edgeById.has(id))) {
    throw new DomainError('CONFLICT', 'the graph changed while the path was being read; retry');
  }
  return {
    found: true,
    length: chain.edges.length,
    nodes: chain.nodes.map((id) => toEntity(nodeById.get(id)!)),
    relationships: chain.edges.map((id) => toRelationship(edgeById.get(id)!)),
  };
}

/** From `node` back to its side's start: each hop with the edge it was reached by. */
function trace(reached: Map<string, Reached>, node: string): { node: string; edge: string | null }[] {
  const hops: { node: string; edge: string | null }[] = [];
  for (let at: string | null = node; at !== null;) {
    const hop: Reached = reached.get(at)!;
    hops.push({ node: at, edge: hop.edge });
    at = hop.from;
  }
  return hops;
}

const ZPosition = z.object({ depth: z.number().int().min(1).max(3), id: z.uuid() });
