/**
 * The knowledge and memories benchmark (issue 9): knowledge.search over 100k entries (about
 * 2.4 KB each, all of one owner, plus ten documents of 1–5 MB) at 8 concurrent clients, with
 * snippets; memories.context over 1M memories of 10k users. Each through the real API (HTTP,
 * API-key authentication) and through a bare node:http + pg baseline running the same SQL.
 *
 *   pnpm bench:knowledge            full run, writes bench/results/knowledge-<date>.md
 *   pnpm bench:knowledge --quick    small data set, 1 round; writes nothing unless --out
 *   options: --rounds N, --out FILE; DATABASE_URL=… uses that server instead of an embedded one
 *   --reuse: keep the seeded database of an earlier run (migrated to this code) instead of seeding
 *   again; --seed-only: seed and stop. KNOWLEDGE_BENCH_DATABASE names the database.
 *
 * Per workload: the API's capacity with 8 clients in a closed loop, then latency at a fixed
 * arrival rate of half that capacity (open loop, at most 8 requests in flight), the same rate
 * for the API and the baseline, back to back in alternating order, for each round. The load
 * average is read at the end of every run and printed beside its figures.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import * as prettier from 'prettier';
import { openBenchDatabase } from '../api/database.ts';
import { percentile, runLoad, type HttpRequest } from '../api/load.ts';
import { startApi, startBaseline, type ServerProcess } from '../api/processes.ts';
import { describeMachine, formatNumber, goalRow, median, spread, table, type Goal } from '../api/report.ts';
import { FULL_SHAPE, QUICK_SHAPE, seed, VOCABULARY, type Seeded } from './seed.ts';

const POOL_MAX = 10;
/** p95 goals of issue 9, in the order of the workloads: knowledge.search, memories.context, messages.search. */
const GOALS_MS = [50, 20, 100];
const CLIENTS = 8;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    out: { type: 'string' },
    reuse: { type: 'boolean', default: false },
    'seed-only': { type: 'boolean', default: false },
  },
});
const shape = args.quick ? QUICK_SHAPE : FULL_SHAPE;
const rounds = Number(args.rounds ?? (args.quick ? 1 : 3));
const phaseMs = args.quick ? { warmup: 1_000, measure: 3_000 } : { warmup: 3_000, measure: 12_000 };
const log = (line: string) => process.stderr.write(`${line}\n`);

/** A deterministic pseudo-random sequence, so every run asks the same questions. */
function sequence(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

/** Words of mid to low frequency (n ≥ 2,000 of the skewed vocabulary), as people search. */
function searchQueries(count: number): { query: string; prefix: boolean }[] {
  const random = sequence(7);
  const word = () => `lex${2_000 + Math.floor(random() * (VOCABULARY - 2_000))}`;
  return Array.from({ length: count }, (_, i) => {
    switch (i % 10) {
      case 0:
      case 1:
      case 2:
      case 3:
        return { query: word(), prefix: false };
      case 4:
      case 5:
        return { query: `${word()} ${word()}`, prefix: false };
      case 6:
        return { query: `${word()} OR ${word()}`, prefix: false };
      case 7:
        return { query: `"${word()} ${word()}"`, prefix: false };
      case 8:
        // As-you-type: the first four digits of a word (lex1234 → lex1234, lex12340…lex12349).
        return { query: word().slice(0, 7), prefix: true };
      default:
        return { query: `${word()} -${word()}`, prefix: false };
    }
  });
}

interface Workload {
  name: string;
  request(client: number, server: 'api' | 'baseline'): HttpRequest;
}

function trpcGet(path: string, input: unknown, headers: Record<string, string>): HttpRequest {
  return { method: 'GET', path: `/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, headers };
}

function workloads(seeded: Seeded): Workload[] {
  const queries = searchQueries(500);
  const prompts = sequence(11);
  let searchNext = 0;
  let contextNext = 0;
  let messageNext = 0;
  const authOf = (user: { id: string; apiKey: string }, server: 'api' | 'baseline'): Record<string, string> =>
    server === 'api' ? { 'x-api-key': user.apiKey } : { 'x-bench-user': user.id };
  return [
    {
      name: 'knowledge.search (20 hits with snippets)',
      request: (_, server) => {
        const q = queries[searchNext++ % queries.length]!;
        return trpcGet('knowledge.search', { ...q, limit: 20 }, authOf(seeded.knowledgeOwner, server));
      },
    },
    {
      name: 'memories.context (limit 20, 500-token budget)',
      request: (_, server) => {
        const user = seeded.memoryUsers[contextNext++ % seeded.memoryUsers.length]!;
        const words = Array.from({ length: 12 }, () => `lex${Math.floor(VOCABULARY * prompts() ** 3)}`);
        return trpcGet(
          'memories.context',
          { query: words.join(' '), limit: 20, tokenBudget: 500 },
          authOf(user, server),
        );
      },
    },
    {
      name: `messages.search (20 hits with snippets, a user holding ${(seeded.searcherMessages ?? 0).toLocaleString('en-US')} of ${(seeded.messages ?? 0).toLocaleString('en-US')} messages)`,
      request: (_, server) => {
        const q = queries[messageNext++ % queries.length]!;
        return trpcGet('messages.search', { ...q, limit: 20 }, authOf(seeded.messageSearcher, server));
      },
    },
  ];
}

interface Run {
  throughput: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  load: number;
}

async function measure(server: ServerProcess, workload: Workload, ratePerSecond?: number): Promise<Run> {
  const result = await runLoad({
    port: server.port,
    concurrency: CLIENTS,
    ...(ratePerSecond === undefined ? {} : { ratePerSecond }),
    next: (client) => workload.request(client, server.name as 'api' | 'baseline'),
    warmup: { ms: phaseMs.warmup },
    measure: { ms: phaseMs.measure },
  });
  if (result.firstError !== null) log(`  ${result.non2xx + result.socketErrors} error(s); first: ${result.firstError}`);
  return {
    throughput: result.throughput,
    p50: percentile(result.latenciesMs, 0.5),
    p95: percentile(result.latenciesMs, 0.95),
    p99: percentile(result.latenciesMs, 0.99),
    errors: result.non2xx + result.socketErrors,
    load: loadavg()[0]!,
  };
}

/**
 * The seeded data set: read back from the database when --reuse found one seeded earlier, else
 * seeded now and recorded there (the API keys and ids the requests need).
 */
async function seededOnce(url: string, reused: boolean): Promise<Seeded> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    if (reused) {
      const { rows } = await client
        .query<{ seeded: Seeded }>(`select seeded from bench_seeded where to_regclass('bench_seeded') is not null`)
        .catch(() => ({ rows: [] as { seeded: Seeded }[] }));
      if (rows[0] !== undefined) {
        log('reusing the data set seeded earlier');
        return rows[0].seeded;
      }
    }
    const seeded = await seed(url, shape, log);
    await client.query('create table if not exists bench_seeded (seeded jsonb not null)');
    await client.query('insert into bench_seeded (seeded) values ($1)', [JSON.stringify(seeded)]);
    return seeded;
  } finally {
    await client.end();
  }
}

const stops: (() => Promise<void>)[] = [];
process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
async function stopAll(): Promise<void> {
  for (const stop of stops.splice(0).reverse()) await stop().catch((error: unknown) => log(String(error)));
}

try {
  const machine = describeMachine();
  const db = await openBenchDatabase(process.env.DATABASE_URL, log, {
    database: process.env.KNOWLEDGE_BENCH_DATABASE ?? 'threadstore_bench_knowledge',
    dataDirName: 'postgres-knowledge',
    keep: args.reuse,
  });
  stops.push(db.stop);
  const seeded = await seededOnce(db.url, db.reused);
  if (args['seed-only']) process.exit(0);
  log(
    `seeded ${seeded.entries} entries (${seeded.chunks} slices), ${seeded.memories} memories in ${seeded.seconds.toFixed(0)} s`,
  );
  const api = await startApi(db.url, POOL_MAX);
  stops.push(api.stop);
  const baseline = await startBaseline(db.url, POOL_MAX, join(import.meta.dirname, 'baseline-server.ts'));
  stops.push(baseline.stop);
  const servers = { api, baseline };

  const sections: string[] = [];
  const goals: Goal[] = [];
  for (const [index, workload] of workloads(seeded).entries()) {
    log(`${workload.name}: capacity with ${CLIENTS} clients (closed loop)`);
    const capacity = await measure(api, workload);
    const rate = Math.max(1, Math.floor(capacity.throughput / 2));
    const runs: Record<'api' | 'baseline', Run[]> = { api: [], baseline: [] };
    for (let round = 1; round <= rounds; round += 1) {
      for (const name of round % 2 === 1 ? (['api', 'baseline'] as const) : (['baseline', 'api'] as const)) {
        log(`${workload.name}: round ${round}/${rounds}, ${name} at ${rate}/s`);
        runs[name].push(await measure(servers[name], workload, rate));
      }
    }
    const row = (name: 'api' | 'baseline') => [
      name === 'api' ? 'API' : 'bare pg baseline',
      spread(runs[name].map((run) => run.p50)),
      spread(runs[name].map((run) => run.p95)),
      spread(runs[name].map((run) => run.p99)),
      spread(runs[name].map((run) => run.throughput)),
      String(runs[name].reduce((sum, run) => sum + run.errors, 0)),
      runs[name].map((run) => run.load.toFixed(2)).join(' / '),
    ];
    const ratio = median(runs.api.map((run) => run.p95)) / median(runs.baseline.map((run) => run.p95));
    sections.push(
      [
        `## ${workload.name}`,
        `API capacity with ${CLIENTS} clients in a closed loop: ${formatNumber(capacity.throughput)} requests/s (p95 ${formatNumber(capacity.p95)} ms at saturation, load ${capacity.load.toFixed(2)}). Latency below at a fixed ${rate} requests/s (open loop, at most ${CLIENTS} in flight), ${rounds} round(s) of ${phaseMs.measure / 1000} s each; median [min–max] of the rounds, in ms.`,
        table(
          ['', 'p50', 'p95', 'p99', 'requests/s', 'errors', 'load avg (1 min) per round'],
          [row('api'), row('baseline')],
        ),
        `API p95 ÷ baseline p95: ${formatNumber(ratio)}.`,
      ].join('\n\n'),
    );
    goals.push({
      name: `${workload.name} p95 (API)`,
      measured: median(runs.api.map((run) => run.p95)),
      target: GOALS_MS[index]!,
      kind: 'atMost',
      unit: ' ms',
    });
  }

  const report = [
    `# Knowledge and memories benchmark, ${new Date().toISOString().slice(0, 10)}`,
    'Produced by `pnpm bench:knowledge`' +
      (args.quick ? ' --quick' : '') +
      '. Figures as printed; the machine is shared.',
    table(['', ''], Object.entries(machine)),
    `Data: ${seeded.messages.toLocaleString('en-US')} messages (${seeded.searcherMessages.toLocaleString('en-US')} of them one user's, the one searching), ${seeded.entries.toLocaleString('en-US')} knowledge entries of one owner (${seeded.chunks.toLocaleString('en-US')} full-text slices; ${shape.bigEntriesMb.length} of them ${Math.min(...shape.bigEntriesMb)}–${Math.max(...shape.bigEntriesMb)} MB), ${seeded.memories.toLocaleString('en-US')} memories of ${shape.memoryUsers.toLocaleString('en-US')} users (requests spread over ${seeded.memoryUsers.length} of them), seeded in ${seeded.seconds.toFixed(0)} s.`,
    '## Goals',
    table(['Goal', 'Target', 'Measured (median)', 'Verdict'], goals.map(goalRow)),
    ...sections,
  ].join('\n\n');
  const file =
    args.out ?? join(import.meta.dirname, '..', 'results', `knowledge-${new Date().toISOString().slice(0, 10)}.md`);
  const formatted = await prettier.format(report, { ...(await prettier.resolveConfig(file)), parser: 'markdown' });
  process.stdout.write(formatted);
  if (!args.quick || args.out !== undefined) {
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(file, formatted);
    log(`written to ${file}`);
  }
} finally {
  await stopAll();
}
