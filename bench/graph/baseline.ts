import { edgeColumns, nodeColumns, RESOLVE_NODES, stepStatement } from '@threadstore/domain';
import type pg from 'pg';

/**
 * The same walks through a bare pg pool: the same statements (imported from the domain), the
 * same levels, without tRPC, zod, MikroORM or the statement_timeout bookkeeping.
 */
export class Baseline {
  private readonly db: pg.Pool;
  private readonly ownerId: string;

  constructor(db: pg.Pool, ownerId: string) {
    this.db = db;
    this.ownerId = ownerId;
  }

  private async step(client: pg.PoolClient, frontier: string[]) {
    const { rows } = await client.query<{ from_id: string; to_id: string; edge_id: string }>(
      stepStatement('both', false),
      [frontier, 250_001],
    );
    return rows;
  }

  async neighbours(id: string, depth: number, limit: number) {
    const client = await this.db.connect();
    try {
      const {
        rows: [start],
      } = await client.query<{ id: string }>(RESOLVE_NODES, [[id], this.ownerId]);
      const depthOf = new Map<string, number>([[start!.id, 0]]);
      let frontier = [start!.id];
      for (let d = 1; d <= depth && frontier.length > 0; d++) {
        const next: string[] = [];
        for (const row of await this.step(client, frontier)) {
          if (depthOf.has(row.to_id)) continue;
          depthOf.set(row.to_id, d);
          next.push(row.to_id);
        }
        frontier = next;
      }
      depthOf.delete(start!.id);
      const page = [...depthOf]
        .map(([id, d]) => ({ id, depth: d }))
        .sort((a, b) => a.depth - b.depth || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .slice(0, limit + 1);
      const { rows } = await client.query(
        `select ${nodeColumns('n')}, v.depth from unnest($1::uuid[], $2::int[]) as v(id, depth)
           join entity_nodes n on n.id = v.id where n.owner_id = $3 order by v.depth, v.id limit $4`,
        [page.map((node) => node.id), page.map((node) => node.depth), this.ownerId, limit + 1],
      );
      return rows;
    } finally {
      client.release();
    }
  }

  async path(fromId: string, toId: string, maxDepth: number) {
    const client = await this.db.connect();
    try {
      const { rows: ends } = await client.query<{ given_id: string; id: string }>(RESOLVE_NODES, [
        [fromId, toId],
        this.ownerId,
      ]);
      const from = ends.find((row) => row.given_id === fromId)!.id;
      const to = ends.find((row) => row.given_id === toId)!.id;
      if (from === to) return [from];
      type Side = {
        reached: Map<string, { from: string | null; edge: string | null; depth: number }>;
        frontier: string[];
        depth: number;
      };
      const a: Side = { reached: new Map([[from, { from: null, edge: null, depth: 0 }]]), frontier: [from], depth: 0 };
      const b: Side = { reached: new Map([[to, { from: null, edge: null, depth: 0 }]]), frontier: [to], depth: 0 };
      while (a.depth + b.depth < maxDepth && a.frontier.length > 0 && b.frontier.length > 0) {
        const [side, other] = a.frontier.length <= b.frontier.length ? [a, b] : [b, a];
        side.depth += 1;
        const next: string[] = [];
        let meeting: string | null = null;
        let best = Infinity;
        for (const row of await this.step(client, side.frontier)) {
          if (side.reached.has(row.to_id)) continue;
          side.reached.set(row.to_id, { from: row.from_id, edge: row.edge_id, depth: side.depth });
          next.push(row.to_id);
          const there = other.reached.get(row.to_id);
          if (there !== undefined && side.depth + there.depth < best) {
            best = side.depth + there.depth;
            meeting = row.to_id;
          }
        }
        if (meeting !== null) {
          const chain = (reached: Side['reached'], node: string) => {
            const hops: { node: string; edge: string | null }[] = [];
            for (let at: string | null = node; at !== null; at = reached.get(at)!.from)
              hops.push({ node: at, edge: reached.get(at)!.edge });
            return hops;
          };
          const forward = chain(a.reached, meeting).reverse();
          const backward = chain(b.reached, meeting);
          const nodes = [...forward.map((hop) => hop.node), ...backward.slice(1).map((hop) => hop.node)];
          const edges = [...forward.slice(1).map((hop) => hop.edge!), ...backward.slice(0, -1).map((hop) => hop.edge!)];
          await client.query(
            `select ${nodeColumns('n')} from entity_nodes n where n.id = any($1::uuid[]) and n.owner_id = $2`,
            [nodes, this.ownerId],
          );
          await client.query(`select ${edgeColumns('e')} from entity_relationships e where e.id = any($1::uuid[])`, [
            edges,
          ]);
          return nodes;
        }
        side.frontier = next;
      }
      return null;
    } finally {
      client.release();
    }
  }
}
