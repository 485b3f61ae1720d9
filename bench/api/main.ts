/**
 * The API benchmark (issue 3): the real API server against a bare node:http + pg baseline
 * running the same SQL, on a seeded data set of 1M+ messages.
 *
 *   pnpm bench:api            full run, writes bench/results/api-<date>.md (seeding and the fixed
 *                             200k-request memory phase dominate: longer on a busy machine)
 *   pnpm bench:api --quick    smoke run on a small data set, 1 round; writes nothing unless --out
 *   options: --rounds N, --out FILE, --cpu-prof DIR (profile of the API process, written when it stops);
 *   DATABASE_URL=… uses that server instead of an embedded one
 *
 * Processes: this one (seeding, load generator, report), the API and the baseline each in a child
 * process, and PostgreSQL. They all share the machine's cores; nothing is pinned. Each figure is
 * the median of the rounds with their range, and within a round the API and the baseline run
 * back to back (alternating which goes first), so a disturbance hits both rather than one.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent } from 'node:http';
import { loadavg } from 'node:os';
import pg from 'pg';
import * as prettier from 'prettier';
import { EMBEDDED_SETTINGS, openBenchDatabase, type BenchDatabase } from './database.ts';
import { FULL_DATASET, makeCorpus, QUICK_DATASET } from './dataset.ts';
import { mean, percentile, runLoad, send, type HttpRequest } from './load.ts';
import { machineCpuSeconds, startApi, startBaseline, treeCpuSeconds, type ServerProcess } from './processes.ts';
import { describeMachine, formatNumber, goalRow, median, spread, table, type Goal, type RunStats } from './report.ts';
import { seed } from './seed.ts';
import { measureFloor } from './floor.ts';
import {
  atFixedRate,
  DEEP_BEFORE_SEQ,
  DEFAULT_SETTINGS,
  FIXED_RATE_SHARE,
  historyRequest,
  QUICK_SETTINGS,
  workloads,
  type Workload,
} from './workloads.ts';

/** The API's default DATABASE_POOL_MAX, given to both servers explicitly. */
const POOL_MAX = 10;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    out: { type: 'string' },
    'cpu-prof': { type: 'string' },
  },
});
const shape = args.quick ? QUICK_DATASET : FULL_DATASET;
const settings = {
  ...(args.quick ? QUICK_SETTINGS : DEFAULT_SETTINGS),
  ...(args.rounds === undefined ? {} : { rounds: Number(args.rounds) }),
};
const log = (line: string) => process.stderr.write(`${line}\n`);

const stops: (() => Promise<void>)[] = [];
process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));

try {
  const machine = describeMachine();
  const db = await openBenchDatabase(process.env.DATABASE_URL, log);
  stops.push(db.stop);
  const postgres = await describePostgres(db.url);
  log(`seeding ${shape.sessions * shape.messagesPerSession + shape.bigSessionMessages} messages…`);
  const seeded = await seed(db.url, shape, log);
  log(`seeded ${seeded.messages} messages in ${seeded.seconds.toFixed(0)} s`);

  const api = await startApi(db.url, POOL_MAX, args['cpu-prof']);
  stops.push(api.stop);
  const baseline = await startBaseline(db.url, POOL_MAX);
  stops.push(baseline.stop);
  await checkSameAnswers(api, baseline);

  const corpus = makeCorpus();
  const w = workloads(shape, corpus, settings);
  const measure = (server: ServerProcess, workload: Workload) => measureRun(server, workload, db);

  type Pair = Record<'api' | 'baseline', RunStats[]>;
  const pair = (): Pair => ({ api: [], baseline: [] });
  const results = {
    append: pair(),
    history: pair(),
    appendFixedRate: pair(),
    historyFixedRate: pair(),
    firstPage: pair(),
    deepPage: pair(),
    bulk: pair(),
  };
  const floor: RunStats[] = [];
  const servers = { api, baseline };
  const inRounds = async (key: keyof typeof results, workload: Workload) => {
    for (let round = 1; round <= settings.rounds; round += 1) {
      const order = round % 2 === 1 ? (['api', 'baseline'] as const) : (['baseline', 'api'] as const);
      for (const name of order) {
        log(`${workload.name}: round ${round}/${settings.rounds}, ${name}`);
        results[key][name].push(await measure(servers[name], workload));
      }
    }
  };
  await inRounds('append', w.append);
  for (let round = 1; round <= settings.rounds; round += 1) {
    log(`plain INSERT floor: round ${round}/${settings.rounds}`);
    floor.push(
      await measureFloor(db.url, db.postmasterPid, {
        concurrency: w.append.concurrency,
        warmupMs: settings.warmupSeconds * 1000,
        measureMs: settings.seconds * 1000,
        corpus,
      }),
    );
  }
  await inRounds('history', w.history);
  // Latency at a load both servers can carry: half the API's measured capacity, the same rate for both.
  const fixedRate = (key: 'append' | 'history') =>
    FIXED_RATE_SHARE * median(results[key].api.map((run) => run.throughput));
  const appendFixed = atFixedRate(w.append, fixedRate('append'), settings);
  const historyFixed = atFixedRate(w.history, fixedRate('history'), settings);
  await inRounds('appendFixedRate', appendFixed);
  await inRounds('historyFixedRate', historyFixed);
  await inRounds('bulk', w.bulk);
  for (let round = 1; round <= settings.rounds; round += 1) {
    const pages = round % 2 === 1 ? (['firstPage', 'deepPage'] as const) : (['deepPage', 'firstPage'] as const);
    for (const name of round % 2 === 1 ? (['api', 'baseline'] as const) : (['baseline', 'api'] as const)) {
      for (const page of pages) {
        log(`${w[page].name}: round ${round}/${settings.rounds}, ${name}`);
        results[page][name].push(await measure(servers[name], w[page]));
      }
    }
  }

  // Last, so the API has been warm for a while: one reading after a drained warmup, one after
  // the requests, each after a full GC.
  log(`${w.mixed.name}: ${settings.memoryRequests} requests, API memory before and after`);
  let before = { rss: 0, heapUsed: 0 };
  const mixed = await measureRun(api, w.mixed, db, async () => {
    before = await api.memory();
  });
  const after = await api.memory();

  // Formatted as `prettier --check` (the lint) expects it, so a committed result passes.
  const file =
    args.out ?? join(import.meta.dirname, '..', 'results', `api-${new Date().toISOString().slice(0, 10)}.md`);
  const report = await prettier.format(
    render({
      machine,
      postgres,
      seeded,
      results,
      floor,
      names: { appendFixedRate: appendFixed.name, historyFixedRate: historyFixed.name },
      mixed,
      memory: { before, after },
    }),
    { ...(await prettier.resolveConfig(file)), parser: 'markdown' },
  );
  process.stdout.write(report);
  if (!args.quick || args.out !== undefined) {
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(file, report);
    log(`written to ${file}`);
  }
} finally {
  await stopAll();
}

async function stopAll(): Promise<void> {
  for (const stop of stops.splice(0).reverse()) await stop().catch((error: unknown) => log(String(error)));
}

/** Runs one workload against one server, with the CPU each party used per request. */
async function measureRun(
  server: ServerProcess,
  workload: Workload,
  db: BenchDatabase,
  afterWarmup?: () => Promise<void>,
): Promise<RunStats> {
  let start = cpuSnapshot(server, db);
  const result = await runLoad({
    port: server.port,
    concurrency: workload.concurrency,
    ...(workload.ratePerSecond === undefined ? {} : { ratePerSecond: workload.ratePerSecond }),
    next: workload.next,
    warmup: workload.warmup,
    measure: workload.measure,
    afterWarmup: async () => {
      await afterWarmup?.();
      start = cpuSnapshot(server, db);
    },
  });
  const end = cpuSnapshot(server, db);
  const errors = result.non2xx + result.socketErrors;
  if (result.firstError !== null) log(`  ${errors} error(s); first: ${result.firstError}`);
  const perRequest = (seconds: number) => (seconds * 1000) / result.requests;
  const ours = end.server - start.server + (end.postgres - start.postgres) + (end.generator - start.generator);
  const machineBusy = end.machine.busy - start.machine.busy;
  const machineTotal = end.machine.total - start.machine.total;
  return {
    throughput: result.throughput,
    messagesPerSecond: result.throughput * workload.messagesPerRequest,
    p50: percentile(result.latenciesMs, 0.5),
    p99: percentile(result.latenciesMs, 0.99),
    p999: percentile(result.latenciesMs, 0.999),
    mean: mean(result.latenciesMs),
    requests: result.requests,
    errors,
    serverCpuMs: perRequest(end.server - start.server),
    postgresCpuMs: db.postmasterPid === null ? Number.NaN : perRequest(end.postgres - start.postgres),
    generatorCpuMs: perRequest(end.generator - start.generator),
    otherCpuPercent: Math.max(0, ((machineBusy - ours) / machineTotal) * 100),
  };
}

function cpuSnapshot(server: ServerProcess, db: BenchDatabase) {
  const { user, system } = process.cpuUsage();
  return {
    server: treeCpuSeconds(server.pid),
    postgres: db.postmasterPid === null ? 0 : treeCpuSeconds(db.postmasterPid),
    generator: (user + system) / 1e6,
    machine: machineCpuSeconds(),
  };
}

async function describePostgres(url: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const show = async (name: string) => (await client.query<Record<string, string>>(`show ${name}`)).rows[0]![name]!;
    const version = await show('server_version');
    const settings = ['shared_buffers', 'max_wal_size', 'synchronous_commit', 'fsync', 'max_connections'];
    const values: string[] = [];
    for (const name of settings) values.push(`${name}=${await show(name)}`);
    return {
      PostgreSQL: `${version} (${process.env.DATABASE_URL === undefined ? `embedded, started with ${EMBEDDED_SETTINGS.join(', ')}` : 'DATABASE_URL'}), same machine`,
      'PostgreSQL settings': values.join(', '),
    };
  } finally {
    await client.end();
  }
}

/**
 * The baseline only means something if it does the API's work: both answer the same requests
 * with the same status and the same JSON keys (history pages with the same messages).
 */
async function checkSameAnswers(api: ServerProcess, baseline: ServerProcess): Promise<void> {
  const agent = new Agent({ keepAlive: true });
  const { append, history } = workloads(shape, makeCorpus(), settings);
  const checks: { name: string; request: () => HttpRequest; samePage: boolean }[] = [
    { name: 'append', request: () => append.next(), samePage: false },
    { name: 'latest page', request: () => history.next(), samePage: true },
    {
      name: 'deep page',
      request: () => historyRequest(shape.sessions, { limit: 50, before: DEEP_BEFORE_SEQ }),
      samePage: true,
    },
  ];
  try {
    for (const { name, request, samePage } of checks) {
      // Appends are not repeated: the second would be an idempotent replay, not an append.
      const first = request();
      const fromApi = await send(agent, api.port, first);
      const fromBaseline = await send(agent, baseline.port, samePage ? first : request());
      if (fromApi.status !== 200 || fromBaseline.status !== 200) {
        throw new Error(
          `${name}: API answered ${fromApi.status} (${fromApi.body.slice(0, 300)}), ` +
            `baseline ${fromBaseline.status} (${fromBaseline.body.slice(0, 300)})`,
        );
      }
      const shapeOf = (body: string) => JSON.stringify(keysOf(JSON.parse(body)));
      if (shapeOf(fromApi.body) !== shapeOf(fromBaseline.body)) {
        throw new Error(
          `${name}: different shapes:\nAPI      ${shapeOf(fromApi.body)}\nbaseline ${shapeOf(fromBaseline.body)}`,
        );
      }
      if (samePage && fromApi.body !== fromBaseline.body)
        throw new Error(`${name}: API and baseline return different pages`);
    }
  } finally {
    agent.destroy();
  }
}

function keysOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? [] : [value.length, keysOf(value[0])];
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, keysOf(item)]));
  }
  return typeof value;
}

interface ReportInput {
  machine: Record<string, string>;
  postgres: Record<string, string>;
  seeded: Awaited<ReturnType<typeof seed>>;
  results: Record<
    'append' | 'history' | 'appendFixedRate' | 'historyFixedRate' | 'firstPage' | 'deepPage' | 'bulk',
    Record<'api' | 'baseline', RunStats[]>
  >;
  floor: RunStats[];
  names: Record<'appendFixedRate' | 'historyFixedRate', string>;
  mixed: RunStats;
  memory: Record<'before' | 'after', { rss: number; heapUsed: number }>;
}

function render({ machine, postgres, seeded, results, floor, names, mixed, memory }: ReportInput): string {
  const w = workloads(shape, '', settings);
  const of = (runs: RunStats[], field: keyof RunStats) => runs.map((run) => run[field]);
  const med = (runs: RunStats[], field: keyof RunStats) => median(of(runs, field));
  const ratioOfMedians = (a: RunStats[], b: RunStats[], field: keyof RunStats) => med(a, field) / med(b, field);
  const roundRatios = (a: RunStats[], b: RunStats[], field: keyof RunStats) =>
    a.map((run, i) => run[field] / b[i]![field]);

  const runRows = (label: string, pair: Record<'api' | 'baseline', RunStats[]>, messages: boolean) =>
    (['api', 'baseline'] as const).map((name) => {
      const runs = pair[name];
      return [
        name === 'api' ? label : '',
        name === 'api' ? 'API' : 'baseline',
        spread(of(runs, messages ? 'messagesPerSecond' : 'throughput')),
        spread(of(runs, 'p50')),
        spread(of(runs, 'p99')),
        spread(of(runs, 'p999')),
        spread(of(runs, 'errors')),
        spread(of(runs, 'serverCpuMs')),
        spread(of(runs, 'postgresCpuMs')),
        spread(of(runs, 'otherCpuPercent')),
      ];
    });
  const header = [
    'Workload',
    'Server',
    'Throughput',
    'p50 ms',
    'p99 ms',
    'p99.9 ms',
    'Errors',
    'Server CPU ms/req',
    'PG CPU ms/req',
    'Other CPU %',
  ];
  const ratioRow = (label: string, pair: Record<'api' | 'baseline', RunStats[]>, field: keyof RunStats) => [
    label,
    formatNumber(ratioOfMedians(pair.api, pair.baseline, field)),
    spread(roundRatios(pair.api, pair.baseline, field)),
  ];

  const depth = (name: 'api' | 'baseline', field: 'p50' | 'mean') =>
    med(results.deepPage[name], field) / med(results.firstPage[name], field);
  const growth = (field: 'rss' | 'heapUsed') =>
    ((memory.after[field] - memory.before[field]) / memory.before[field]) * 100;
  const mib = (bytes: number) => `${formatNumber(bytes / 2 ** 20)} MiB`;

  const goal =
    (kind: Goal['kind']) =>
    (name: string, measured: number, target: number, unit: string): Goal => ({ name, measured, target, kind, unit });
  const atLeast = goal('atLeast');
  const atMost = goal('atMost');
  const fixedLoad = `${formatNumber(FIXED_RATE_SHARE * 100)}%`;
  const requests = formatNumber(settings.memoryRequests);
  const goals: Goal[] = [
    atLeast(
      'append throughput ÷ baseline',
      ratioOfMedians(results.append.api, results.append.baseline, 'throughput'),
      0.8,
      '×',
    ),
    atLeast(
      'history throughput ÷ baseline',
      ratioOfMedians(results.history.api, results.history.baseline, 'throughput'),
      0.8,
      '×',
    ),
    atMost('PostgreSQL CPU per append (API; issue 8)', med(results.append.api, 'postgresCpuMs'), 0.5, ' ms'),
    atLeast(
      'append throughput (API) ÷ plain single-row INSERT floor (issue 8)',
      med(results.append.api, 'throughput') / median(of(floor, 'throughput')),
      0.35,
      '×',
    ),
    atMost(
      'API process CPU per append ÷ baseline (issue 8)',
      ratioOfMedians(results.append.api, results.append.baseline, 'serverCpuMs'),
      1.5,
      '×',
    ),
    atMost(
      'API process CPU per history page ÷ baseline (issue 8)',
      ratioOfMedians(results.history.api, results.history.baseline, 'serverCpuMs'),
      1.5,
      '×',
    ),
    atMost('append p99, 32 clients (API)', med(results.append.api, 'p99'), 25, ' ms'),
    atMost('history p99, 16 clients (API)', med(results.history.api, 'p99'), 30, ' ms'),
    atMost(
      `append p99 at a fixed ${fixedLoad} load (API; supplementary)`,
      med(results.appendFixedRate.api, 'p99'),
      25,
      ' ms',
    ),
    atMost(
      `history p99 at a fixed ${fixedLoad} load (API; supplementary)`,
      med(results.historyFixedRate.api, 'p99'),
      30,
      ' ms',
    ),
    atMost('deep page ÷ first page, p50 (API)', depth('api', 'p50'), 1.2, '×'),
    atMost('deep page ÷ first page, mean (API)', depth('api', 'mean'), 1.2, '×'),
    atLeast('bulk import (API)', med(results.bulk.api, 'messagesPerSecond'), 50_000, ' msg/s'),
    atMost(`RSS growth over ${requests} requests`, growth('rss'), 10, '%'),
    atMost(`heap-used growth over ${requests} requests`, growth('heapUsed'), 10, '%'),
  ];
  const others = Object.values(results).flatMap((pair) => [
    ...of(pair.api, 'otherCpuPercent'),
    ...of(pair.baseline, 'otherCpuPercent'),
  ]);

  return [
    `# API benchmark, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC${args.quick ? ' (--quick smoke run)' : ''}`,
    '',
    '## Machine and settings',
    '',
    ...Object.entries({ ...machine, ...postgres }).map(([key, value]) => `- ${key}: ${value}`),
    `- Other processes' CPU during the runs: median ${formatNumber(median(others))}% of the machine, max ${formatNumber(Math.max(...others))}% ${median(others) > 10 ? '(the machine was shared: treat absolute figures with care, ratios hold better)' : ''}`,
    `- Data: ${formatNumber(seeded.messages)} messages in ${formatNumber(seeded.sessions)} sessions (${formatNumber(shape.sessions)} × ${shape.messagesPerSession} plus one of ${formatNumber(shape.bigSessionMessages)}), written interleaved in ${shape.messagesPerSession} shuffled rounds, 200–800 characters each; chat_messages ${mib(seeded.messagesTableBytes)} with indexes. Seeded in ${formatNumber(seeded.seconds)} s (synchronous_commit=off for the seeding connection only).`,
    `- API: apps/api/dist/main.js in a child process, NODE_ENV=production, LOG_LEVEL=warn, RATE_LIMIT_PER_MINUTE=0, DATABASE_POOL_MAX=${POOL_MAX}. Principals: anonymous X-Session-ID, each session owned by its own visitor. Appends carry a clientMessageId.`,
    `- Baseline: bare node:http + pg Pool(max ${POOL_MAX}) in a child process, the same SQL statements (appendStatement() from @threadstore/domain; the history SELECT copied from it), same JSON shapes.`,
    `- Load generator: closed loop, one keep-alive connection per client, in the parent process; latency percentiles from every request's own time. Generator, server and PostgreSQL share the machine's ${machine.CPU?.split(', ').at(-1)}, unpinned.`,
    `- Load average (1/5/15 min) at the end: ${loadavg()
      .map((value) => value.toFixed(2))
      .join(' / ')}`,
    `- Floor: plain single-row INSERT (autocommit, one named prepared statement) of the same message into a table with the same columns and no index, key or constraint, from a Node pg Pool with as many clients as the append workload, in this process (bench/api/floor.ts); measured after the append rounds of the same run.`,
    `- Rounds: ${settings.rounds} per workload, API and baseline back to back in each (alternating first); append/history ${settings.seconds} s measured after ${settings.warmupSeconds} s warmup; pages ${settings.pageSeconds} s after 1 s; fixed-rate (open loop, latency from each request's due time, at ${formatNumber(FIXED_RATE_SHARE * 100)}% of the API's median closed-loop throughput, the same rate for the baseline) ${settings.fixedRateSeconds} s after ${settings.warmupSeconds} s.`,
    '',
    `## Results (median [min–max] of ${settings.rounds} round${settings.rounds === 1 ? '' : 's'})`,
    '',
    'Throughput is requests/s, except for bulk import: messages/s. CPU columns: milliseconds of CPU per request used by the server process and by all PostgreSQL processes; "Other CPU %" is what processes outside the benchmark used.',
    '',
    table(header, [
      ...runRows(w.append.name, results.append, false),
      [
        `plain single-row INSERT into an unindexed table, ${w.append.concurrency} pg clients`,
        'floor',
        spread(of(floor, 'throughput')),
        spread(of(floor, 'p50')),
        spread(of(floor, 'p99')),
        spread(of(floor, 'p999')),
        '0',
        'n/a',
        spread(of(floor, 'postgresCpuMs')),
        spread(of(floor, 'otherCpuPercent')),
      ],
      ...runRows(w.history.name, results.history, false),
      ...runRows(names.appendFixedRate, results.appendFixedRate, false),
      ...runRows(names.historyFixedRate, results.historyFixedRate, false),
      ...runRows(w.firstPage.name, results.firstPage, false),
      ...runRows(w.deepPage.name, results.deepPage, false),
      ...runRows(w.bulk.name, results.bulk, true),
    ]),
    '',
    table(
      ['API ÷ baseline', 'ratio of medians', 'per round [range]'],
      [
        ratioRow('append throughput', results.append, 'throughput'),
        ratioRow('history throughput', results.history, 'throughput'),
        ratioRow('bulk import messages/s', results.bulk, 'messagesPerSecond'),
        ratioRow('append p99', results.append, 'p99'),
        ratioRow('history p99', results.history, 'p99'),
      ],
    ),
    '',
    table(
      ['Deep page ÷ first page', 'p50', 'mean'],
      [
        ['API', formatNumber(depth('api', 'p50')), formatNumber(depth('api', 'mean'))],
        ['baseline', formatNumber(depth('baseline', 'p50')), formatNumber(depth('baseline', 'mean'))],
      ],
    ),
    '',
    `Memory of the API process after a full GC, before and after ${formatNumber(settings.memoryRequests)} requests (${w.mixed.name}; ${formatNumber(mixed.throughput)} req/s, p99 ${formatNumber(mixed.p99)} ms, ${mixed.errors} errors):`,
    '',
    table(
      ['', 'before', 'after', 'growth'],
      [
        ['RSS', mib(memory.before.rss), mib(memory.after.rss), `${formatNumber(growth('rss'))}%`],
        [
          'V8 heap used',
          mib(memory.before.heapUsed),
          mib(memory.after.heapUsed),
          `${formatNumber(growth('heapUsed'))}%`,
        ],
      ],
    ),
    '',
    '## Goals',
    '',
    table(['Goal', 'Target', 'Measured (median)', 'Result'], goals.map(goalRow)),
  ].join('\n');
}
