import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONTENT_LIMITS, type TPathOutput } from '@threadstore/contract';
import { uuidv7 } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import {
  DEFAULT_TRAVERSAL_BUDGET,
  DomainError,
  entityNeighbours,
  entityPath,
  type Principal,
} from '@threadstore/domain';
import { createTestUser } from '@threadstore/domain/testing';
import { TRPCError } from '@trpc/server';
import { callerAs } from '../../testing/caller.ts';

const testDb = useTestDatabase();

/** A deterministic generator (mulberry32), so a failing graph can be rebuilt from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Edge {
  id: string;
  source: string;
  target: string;
}

/** A new user with a graph of `nodes` and `edges` inserted in two statements. */
async function graphOf(
  nodeCount: number,
  edges: [number, number][],
): Promise<{ principal: Principal; ids: string[]; edges: Edge[] }> {
  const { principal, userId } = await createTestUser(testDb.orm.em.fork());
  const ids = Array.from({ length: nodeCount }, () => uuidv7());
  const connection = testDb.orm.em.fork().getConnection();
  await connection.execute(
    `insert into entity_nodes (id, owner_id, type, name, canonical_key)
     select id::uuid, ?, 'thing', 'node ' || ordinality, id from jsonb_array_elements_text(?::jsonb) with ordinality as t(id, ordinality)`,
    [userId, JSON.stringify(ids)],
  );
  const rows = edges.map(([source, target]) => ({ id: uuidv7(), source: ids[source]!, target: ids[target]! }));
  await connection.execute(
    `insert into entity_relationships (id, source_id, target_id, type)
     select (e->>0)::uuid, (e->>1)::uuid, (e->>2)::uuid, 'links' from jsonb_array_elements(?::jsonb) as e`,
    [JSON.stringify(rows.map((row) => [row.id, row.source, row.target]))],
  );
  return { principal, ids, edges: rows };
}

/** Breadth-first distances from `from`, done here independently of the server. */
function bfs(edges: Edge[], from: string, direction: 'out' | 'both'): Map<string, number> {
  const adjacent = new Map<string, string[]>();
  const add = (a: string, b: string) => adjacent.set(a, [...(adjacent.get(a) ?? []), b]);
  for (const edge of edges) {
    add(edge.source, edge.target);
    if (direction === 'both') add(edge.target, edge.source);
  }
  const distance = new Map([[from, 0]]);
  const queue = [from];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const next of adjacent.get(node) ?? []) {
      if (!distance.has(next)) {
        distance.set(next, distance.get(node)! + 1);
        queue.push(next);
      }
    }
  }
  return distance;
}

/** The path is a chain: each relationship joins the nodes on either side of it, in an allowed direction. */
function expectChain(path: TPathOutput, from: string, to: string, direction: 'out' | 'both') {
  expect(path.nodes[0]!.id).toBe(from);
  expect(path.nodes.at(-1)!.id).toBe(to);
  expect(path.relationships).toHaveLength(path.nodes.length - 1);
  path.relationships.forEach((edge, i) => {
    const [a, b] = [path.nodes[i]!.id, path.nodes[i + 1]!.id];
    const forwards = edge.sourceId === a && edge.targetId === b;
    const backwards = edge.sourceId === b && edge.targetId === a;
    expect(direction === 'out' ? forwards : forwards || backwards, `hop ${i}`).toBe(true);
  });
  expect(new Set(path.nodes.map((node) => node.id)).size).toBe(path.nodes.length);
}

describe('entities.path', () => {
  it('agrees with a breadth-first search on generated graphs', async () => {
    for (const seed of [1, 2, 3]) {
      const next = random(seed);
      const nodeCount = 120;
      const pairs = new Set<string>();
      const edges: [number, number][] = [];
      while (edges.length < 180) {
        const source = Math.floor(next() * nodeCount);
        const target = Math.floor(next() * nodeCount);
        if (source === target || pairs.has(`${source}>${target}`)) continue;
        pairs.add(`${source}>${target}`);
        edges.push([source, target]);
      }
      const graph = await graphOf(nodeCount, edges);
      const api = callerAs(testDb.orm, graph.principal);
      for (let i = 0; i < 25; i++) {
        const from = graph.ids[Math.floor(next() * nodeCount)]!;
        const to = graph.ids[Math.floor(next() * nodeCount)]!;
        for (const direction of ['out', 'both'] as const) {
          const maxDepth = 1 + Math.floor(next() * 6);
          const expected = bfs(graph.edges, from, direction).get(to);
          const path = await api.entities.path({ fromId: from, toId: to, direction, maxDepth });
          const label = `seed ${seed}: ${from} → ${to} ${direction} within ${maxDepth}`;
          if (expected === undefined || expected > maxDepth) {
            expect(path.found, label).toBe(false);
          } else {
            expect(path.length, label).toBe(expected);
            expectChain(path, from, to, direction);
          }
        }
      }
    }
  });

  it('walks a cycle once, in both directions', async () => {
    const size = 30;
    const graph = await graphOf(
      size,
      Array.from({ length: size }, (_, i) => [i, (i + 1) % size] as [number, number]),
    );
    const api = callerAs(testDb.orm, graph.principal);
    const [zero, five, twentySeven] = [graph.ids[0]!, graph.ids[5]!, graph.ids[27]!];
    expect((await api.entities.path({ fromId: zero, toId: five, direction: 'out', maxDepth: 6 })).length).toBe(5);
    expect((await api.entities.path({ fromId: zero, toId: twentySeven, direction: 'out', maxDepth: 6 })).found).toBe(
      false,
    );
    const back = await api.entities.path({ fromId: zero, toId: twentySeven, direction: 'both', maxDepth: 6 });
    expect(back.length).toBe(3);
    expectChain(back, zero, twentySeven, 'both');
    const around = await api.entities.neighbours({ id: zero, depth: 3, direction: 'both' });
    expect(around.items.map((item) => [item.entity.id, item.depth]).sort()).toEqual(
      [1, 2, 3, 29, 28, 27].map((i) => [graph.ids[i], i < 10 ? i : size - i]).sort(),
    );
  });
});

describe('a hub with 100,000 edges', () => {
  let hub: { principal: Principal; ids: string[] };

  beforeAll(async () => {
    const { principal, userId } = await createTestUser(testDb.orm.em.fork());
    const connection = testDb.orm.em.fork().getConnection();
    await connection.execute(
      `insert into entity_nodes (owner_id, type, name, canonical_key)
       select ?, case when g = 0 then 'hub' else 'leaf' end, 'node ' || g, 'node-' || g from generate_series(0, 100000) g`,
      [userId],
    );
    await connection.execute(
      `insert into entity_relationships (source_id, target_id, type)
       select h.id, l.id, 'links' from entity_nodes h join entity_nodes l on l.owner_id = h.owner_id and l.type = 'leaf'
        where h.owner_id = ? and h.type = 'hub'`,
      [userId],
    );
    await connection.execute('analyze entity_nodes, entity_relationships');
    const ids = await connection.execute<{ id: string }[]>(
      `select id from entity_nodes where owner_id = ? and canonical_key in ('node-0', 'node-1', 'node-99999') order by canonical_key`,
      [userId],
    );
    hub = { principal, ids: ids.map((row) => row.id) }; // [hub, leaf 1, leaf 99999]
  }, 300_000);

  /** The call's outcome and how long it took: an answer or the typed TIMEOUT, never anything else. */
  async function timed<T>(call: Promise<T>): Promise<{ ms: number; value?: T; code?: string }> {
    const started = performance.now();
    try {
      const value = await call;
      return { ms: performance.now() - started, value };
    } catch (error) {
      if (!(error instanceof TRPCError)) throw error;
      return { ms: performance.now() - started, code: error.code };
    }
  }

  // The budget bounds the walk itself; the slack covers the final reads and a busy shared server.
  const DEADLINE_MS = DEFAULT_TRAVERSAL_BUDGET.timeMs + 5_000;

  it('finds the two-hop path between two leaves through the hub within the budget', async () => {
    const api = callerAs(testDb.orm, hub.principal);
    const [hubId, leafA, leafB] = hub.ids as [string, string, string];
    const result = await timed(api.entities.path({ fromId: leafA, toId: leafB, direction: 'both', maxDepth: 4 }));
    expect(result.ms).toBeLessThan(DEADLINE_MS);
    if (result.code !== undefined) expect(result.code).toBe('TIMEOUT');
    else expect(result.value!.nodes.map((node) => node.id)).toEqual([leafA, hubId, leafB]);
    // Along edges only, no leaf reaches another: answered quickly, not by walking the hub.
    const none = await timed(api.entities.path({ fromId: leafA, toId: leafB, direction: 'out', maxDepth: 6 }));
    expect(none.value).toMatchObject({ found: false });
  });

  it('pages the neighbourhood of a leaf through the hub, or refuses it with TIMEOUT, within the budget', async () => {
    const api = callerAs(testDb.orm, hub.principal);
    const [hubId, leafA] = hub.ids as [string, string, string];
    const result = await timed(api.entities.neighbours({ id: leafA, depth: 2, limit: 10 }));
    expect(result.ms).toBeLessThan(DEADLINE_MS);
    if (result.code !== undefined) expect(result.code).toBe('TIMEOUT');
    else {
      expect(result.value!.items[0]).toMatchObject({ entity: { id: hubId }, depth: 1 });
      expect(result.value!.items.slice(1).every((item) => item.depth === 2)).toBe(true);
      expect(result.value!.nextCursor).not.toBeNull();
    }
  });

  it('stops a walk past its node budget with a typed TIMEOUT', async () => {
    const [, leafA, leafB] = hub.ids as [string, string, string];
    const em = testDb.orm.em.fork();
    const small = { timeMs: 10_000, maxNodes: 1_000 };
    await expect(
      entityNeighbours(em, hub.principal, { id: leafA, depth: 2, direction: 'both' }, DEFAULT_CONTENT_LIMITS, small),
    ).rejects.toSatisfy((error) => error instanceof DomainError && error.code === 'TIMEOUT');
    await expect(
      entityPath(em, hub.principal, { fromId: leafA, toId: leafB, direction: 'both', maxDepth: 4 }, small),
    ).rejects.toSatisfy((error) => error instanceof DomainError && error.code === 'TIMEOUT');
    // And past its time budget: 1 ms cannot hold a statement over 100,000 edges.
    await expect(
      entityNeighbours(em, hub.principal, { id: leafA, depth: 2, direction: 'both' }, DEFAULT_CONTENT_LIMITS, {
        timeMs: 1,
        maxNodes: 1_000_000,
      }),
    ).rejects.toSatisfy((error) => error instanceof DomainError && error.code === 'TIMEOUT');
  });
});

it('answers a foreign or unknown node as NOT_FOUND', async () => {
  const mallory = callerAs(testDb.orm, (await createTestUser(testDb.orm.em.fork())).principal);
  await expect(mallory.entities.path({ fromId: randomUUID(), toId: randomUUID() })).rejects.toMatchObject({
    code: 'NOT_FOUND',
  });
});
