/**
 * The entity-graph benchmark (issue 10): `entities.neighbours` (depth 2) and `entities.path`
 * (depth ≤ 4) on 200k nodes and ~1M relationships with a few hubs, through the API's procedures
 * in-process (tRPC caller: input and output validation, the domain code, MikroORM's pool) beside
 * a bare `pg` baseline that runs the same statements in the same order (the same breadth-first
 * levels), at a fixed arrival rate (open loop: latency counts from when a request was due).
 *
 *   pnpm bench:graph                full run, writes bench/results/graph-<date>.md
 *   pnpm bench:graph --quick        small graph, 1 round, writes nothing unless --out
 *   options: --rounds N, --rate R (requests/s), --seconds S (per measurement), --out FILE;
 *   DATABASE_URL=… uses that server (creating threadstore_bench_graph on it) instead of an embedded one
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { callerAs } from '@threadstore/api/testing';
import { connectionSettingsFromUrl, createOrm } from '@threadstore/db';
import type { Principal } from '@threadstore/domain';
import pg from 'pg';
import { openBenchDatabase } from '../api/database.ts';
import { Baseline } from './baseline.ts';
import { describeMachine, formatNumber, goalRow, median, spread, table, type Goal } from '../api/report.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    rate: { type: 'string' },
    seconds: { type: 'string' },
    out: { type: 'string' },
  },
});
const shape = args.quick
  ? { nodes: 20_000, edges: 100_000, hubs: 3, hubEdges: 5_000 }
  : { nodes: 200_000, edges: 1_000_000, hubs: 3, hubEdges: 50_000 };
const rounds = Number(args.rounds ?? (args.quick ? 1 : 3));
const rate = Number(args.rate ?? 5);
const seconds = Number(args.seconds ?? (args.quick ? 5 : 15));
const POOL_MAX = 10;
const log = (line: string) => process.stderr.write(`${line}\n`);
const load = () => loadavg()[0]!;

const database = await openBenchDatabase(process.env.DATABASE_URL, log, {
  database: 'threadstore_bench_graph',
  dataDirName: 'postgres-graph',
});
const pool = new pg.Pool({ connectionString: database.url, max: POOL_MAX });
const orm = await createOrm({
  connection: { ...connectionSettingsFromUrl(database.url, 'threadstore-bench'), poolMax: POOL_MAX },
});
try {
  const machine = describeMachine();
  const started = performance.now();
  const { userId, nodeIds } = await seed(pool);
  log(`seeded in ${formatNumber((performance.now() - started) / 1000)} s`);
  const principal: Principal = { kind: 'user', userId, role: 'user' };
  const api = callerAs(orm, principal);
  const baseline = new Baseline(pool, userId);

  const pick = () => nodeIds[Math.floor(Math.random() * nodeIds.length)]!;
  const workloads = {
    'neighbours depth 2': {
      api: () => api.entities.neighbours({ id: pick(), depth: 2, direction: 'both', limit: 50 }),
      baseline: () => baseline.neighbours(pick(), 2, 50),
    },
    'path depth ≤ 4': {
      api: () => api.entities.path({ fromId: pick(), toId: pick(), maxDepth: 4, direction: 'both' }),
      baseline: () => baseline.path(pick(), pick(), 4),
    },
  } as const;

  type Figures = { p50: number; p95: number; errors: number; load: number };
  const results: Record<string, { api: Figures[]; baseline: Figures[] }> = {};
  for (let round = 0; round < rounds; round++) {
    for (const [name, workload] of Object.entries(workloads)) {
      results[name] ??= { api: [], baseline: [] };
      // Alternate which goes first, so a disturbance does not always hit the same side.
      const order = round % 2 === 0 ? (['api', 'baseline'] as const) : (['baseline', 'api'] as const);
      for (const side of order) {
        await atFixedRate(workload[side], rate, 2); // warm-up: caches, plans, pool
        const figures = await atFixedRate(workload[side], rate, seconds);
        results[name][side].push(figures);
        log(
          `round ${round + 1} ${name} ${side}: p50 ${formatNumber(figures.p50)} ms, p95 ${formatNumber(figures.p95)} ms, errors ${figures.errors}, load ${figures.load.toFixed(2)}`,
        );
      }
    }
  }

  const rows: string[][] = [];
  const goals: Goal[] = [];
  for (const [name, { api: apiRuns, baseline: baseRuns }] of Object.entries(results)) {
    for (const [side, runs] of [
      ['API', apiRuns],
      ['bare pg', baseRuns],
    ] as const) {
      rows.push([
        name,
        side,
        spread(runs.map((run) => run.p50)),
        spread(runs.map((run) => run.p95)),
        String(runs.reduce((sum, run) => sum + run.errors, 0)),
        runs.map((run) => run.load.toFixed(2)).join(' / '),
      ]);
    }
    rows.push([
      name,
      'ratio API / bare pg (p95)',
      '',
      spread(apiRuns.map((run, i) => run.p95 / baseRuns[i]!.p95)),
      '',
      '',
    ]);
    goals.push({
      name: `${name} p95`,
      measured: median(apiRuns.map((run) => run.p95)),
      target: 50,
      kind: 'atMost',
      unit: ' ms',
    });
  }
  const [{ count: edgeCount }] = (
    await pool.query<{ count: number }>('select count(*)::int as count from entity_relationships')
  ).rows as [{ count: number }];
  const report = [
    `# Entity graph benchmark, ${new Date().toISOString().slice(0, 10)}`,
    '',
    'Command: `' +
      ['pnpm bench:graph', ...process.argv.slice(2)].join(' ') +
      '`' +
      (process.env.DATABASE_URL ? ' with DATABASE_URL (a shared PostgreSQL server, not the embedded one)' : ''),
    '',
    table(
      ['', ''],
      Object.entries(machine).map(([key, value]) => [key, value]),
    ),
    '',
    `Graph: ${formatNumber(shape.nodes)} nodes, ${formatNumber(edgeCount)} relationships, of which ${shape.hubs} hubs hold ${formatNumber(shape.hubs * shape.hubEdges)} (each hub links to ${formatNumber(shape.hubEdges)} random nodes); the rest join random pairs, 3 relationship types. Start nodes and pairs are drawn at random for every request.`,
    `Load: ${rate} requests/s at a fixed rate (open loop) for ${seconds} s per measurement after a 2 s warm-up; latency counts from when each request was due. ${rounds} round(s); figures are the median [min–max] of the rounds, in ms. The API side calls the procedures in-process (tRPC caller, no HTTP); the baseline runs the same statements through a bare \`pg\` pool of the same size (${POOL_MAX}).`,
    '',
    table(['workload', 'side', 'p50 ms', 'p95 ms', 'errors', 'load average (1 min) per round'], rows),
    '',
    table(['goal', 'target', 'measured (median)', 'verdict'], goals.map(goalRow)),
    '',
  ].join('\n');
  process.stdout.write(report);
  const out =
    args.out ??
    (args.quick
      ? undefined
      : join(import.meta.dirname, '..', 'results', `graph-${new Date().toISOString().slice(0, 10)}.md`));
  if (out !== undefined) await writeFile(out, report);
} finally {
  await orm.close();
  await pool.end();
  await database.stop();
}

/**
 * Runs `call` `rate` times a second for `seconds`, each when it is due whether or not earlier
 * ones have finished (open loop), and measures each from its due time.
 */
async function atFixedRate(
  call: () => Promise<unknown>,
  perSecond: number,
  seconds: number,
): Promise<{ p50: number; p95: number; errors: number; load: number }> {
  const total = Math.round(perSecond * seconds);
  const start = performance.now();
  const latencies: number[] = [];
  let errors = 0;
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(
      call().then(
        () => void latencies.push(performance.now() - due),
        () => {
          errors++;
          latencies.push(performance.now() - due);
        },
      ),
    );
  }
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return { p50: at(0.5), p95: at(0.95), errors, load: load() };
}

/** The graph, set-based: nodes by generate_series, random edges by joining numbered nodes. */
async function seed(db: pg.Pool): Promise<{ userId: string; nodeIds: string[] }> {
  const client = await db.connect();
  try {
    const {
      rows: [user],
    } = await client.query<{ id: string }>(
      `insert into users (issuer, subject, display_name) values ('https://bench.test', 'graph-bench', 'bench') returning id`,
    );
    const userId = user!.id;
    await client.query(
      `insert into entity_nodes (owner_id, type, name, canonical_key, aliases)
       select $1, (array['company','person','contract','address'])[1 + g % 4], 'Node ' || g, 'node-' || g,
              jsonb_build_array('N' || g)
         from generate_series(1, $2::int) g`,
      [userId, shape.nodes],
    );
    await client.query(
      `create temp table numbered as select row_number() over (order by id) as n, id from entity_nodes where owner_id = $1`,
      [userId],
    );
    await client.query(`create index on numbered (n)`);
    // Hubs: the first nodes, each linked to hubEdges random others.
    await client.query(
      `insert into entity_relationships (source_id, target_id, type)
       select h.id, t.id, 'mentions'
         from generate_series(1, $1::int) hub
         cross join lateral (select 1 + floor(random() * $3::int)::int as n from generate_series(1, $2::int)) r
         join numbered h on h.n = hub
         join numbered t on t.n = r.n
        where t.id <> h.id
       on conflict do nothing`,
      [shape.hubs, shape.hubEdges, shape.nodes],
    );
    await client.query(
      `insert into entity_relationships (source_id, target_id, type, weight)
       select s.id, t.id, (array['owns','employs','supplies'])[1 + r.k % 3], round(random()::numeric, 3)
         from (select g as k, 1 + floor(random() * $2::int)::int as a, 1 + floor(random() * $2::int)::int as b
                 from generate_series(1, $1::int) g) r
         join numbered s on s.n = r.a
         join numbered t on t.n = r.b
        where s.id <> t.id
       on conflict do nothing`,
      [shape.edges - shape.hubs * shape.hubEdges, shape.nodes],
    );
    await client.query('vacuum analyze entity_nodes');
    await client.query('vacuum analyze entity_relationships');
    const { rows } = await client.query<{ id: string }>(`select id from entity_nodes where owner_id = $1`, [userId]);
    return { userId, nodeIds: rows.map((row) => row.id) };
  } finally {
    client.release();
  }
}
