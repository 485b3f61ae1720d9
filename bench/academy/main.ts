/**
 * The academy benchmark (issue 10, and issue 8's XP goal):
 * - the xp-rollup incremental fold of 1,000 new rows on a 1M-row ledger (goal ≤ 100 ms), with the
 *   maintenance benchmark's own ledger kit (bench/maintenance/xp.ts);
 * - academy.leaderboard (top 50) and academy.rank (the caller's rank and 2 neighbours each side),
 *   all-time and this week, over 1M learners, at a fixed arrival rate (open loop; goal p95 ≤ 20 ms);
 * - academy.award throughput (awards/s landing in the ledger) at 16 clients (closed loop);
 * each through the real API (apps/api/dist/main.js, a child process) beside a bare node:http + pg
 * baseline running the same SQL statements (baseline-server.ts), 3 rounds, median and range, with
 * the machine's load average printed beside every figure.
 *
 *   pnpm bench:academy           full run, writes bench/results/academy-<date>.md (~10 min on 2 cores)
 *   pnpm bench:academy --quick   small data (100k learners, 100k ledger), writes nothing unless --out
 *   options: --rounds N, --rate N (req/s of the read routes), --seconds N (per measured window),
 *   --out FILE; DATABASE_URL=… uses that server instead of an embedded one
 */
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connectionSettingsFromUrl, createOrm } from '@threadstore/db';
import { generateApiKey, hashApiKey } from '@threadstore/domain';
import pg from 'pg';
import { openBenchDatabase } from '../api/database.ts';
import { percentile, runLoad, type HttpRequest, type LoadResult } from '../api/load.ts';
import { startApi, startBaseline, type ServerProcess } from '../api/processes.ts';
import { describeMachine, formatNumber, goalRow, median, spread, table, type Goal } from '../api/report.ts';
import { learnerIdSql } from '../maintenance/dataset.ts';
import { jobNamed } from '../maintenance/jobs.ts';
import { measureXp } from '../maintenance/xp.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    rate: { type: 'string' },
    seconds: { type: 'string' },
    'no-xp': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const quick = args.quick;
const rounds = Number(args.rounds ?? 3);
const rate = Number(args.rate ?? 50);
const windowMs = Number(args.seconds ?? (quick ? 4 : 10)) * 1000;
const LEARNERS = quick ? 100_000 : 1_000_000;
const LEDGER = {
  learners: 10_000,
  rows: quick ? 100_000 : 1_000_000,
  smallRows: quick ? 10_000 : 100_000,
  newRows: 1_000,
};
const XP_ROUNDS = quick ? 3 : 7;
const POOL_MAX = 10;
const AWARD_CLIENTS = 16;
const SAMPLE_LEARNERS = 500;

const log = (line: string) => process.stderr.write(`${line}\n`);
const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' / ');
const out: string[] = [];
const print = (line = '') => {
  out.push(line);
  process.stdout.write(`${line}\n`);
};

const stops: (() => Promise<void>)[] = [];
process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
async function stopAll() {
  for (const stop of stops.reverse()) await stop().catch(() => {});
}

try {
  const started = performance.now();
  const machine = describeMachine();
  const db = await openBenchDatabase(process.env.DATABASE_URL, log, {
    database: 'threadstore_bench_academy',
    dataDirName: 'postgres-academy',
  });
  stops.push(db.stop);

  // 1. The rollup's incremental fold (issue 8, goal 8).
  const xpJob = jobNamed('xp-rollup');
  if (!xpJob) throw new Error('the worker registers no xp-rollup job');
  const orm = await createOrm({ connection: connectionSettingsFromUrl(db.url, 'threadstore-bench-academy') });
  const xpLoadBefore = load();
  const xp = args['no-xp'] ? null : await measureXp(xpJob, orm, db.url, LEDGER, XP_ROUNDS, log);
  const xpLoadAfter = load();
  await orm.close();

  // 2. A million learners on the boards.
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  stops.push(() => client.end());
  log(`seeding ${formatNumber(LEARNERS)} learners…`);
  const seedStarted = performance.now();
  const { learnerKeys, awardKey, week } = await seedBoards(client);
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  log(`seeded in ${seedSeconds.toFixed(0)} s`);

  const api = await startApi(db.url, POOL_MAX);
  stops.push(() => api.stop());
  const baseline = await startBaseline(db.url, POOL_MAX, join(import.meta.dirname, 'baseline-server.ts'));
  stops.push(() => baseline.stop());

  const get = (path: string, input: unknown, key: string): HttpRequest => ({
    method: 'GET',
    path: `/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`,
    headers: { 'x-api-key': key },
  });
  const pick = (n: number) => learnerKeys[(n * 7919) % learnerKeys.length]!;
  const reads: { name: string; request: (n: number) => HttpRequest }[] = [
    { name: 'leaderboard all-time, top 50', request: (n) => get('academy.leaderboard', { limit: 50 }, pick(n)) },
    { name: 'rank all-time (±2)', request: (n) => get('academy.rank', { neighbours: 2 }, pick(n)) },
    {
      name: 'leaderboard this week, top 50',
      request: (n) => get('academy.leaderboard', { period: 'week', limit: 50 }, pick(n)),
    },
    { name: 'rank this week (±2)', request: (n) => get('academy.rank', { period: 'week', neighbours: 2 }, pick(n)) },
  ];

  interface ReadRound {
    p50: number;
    p95: number;
    p99: number;
    errors: number;
    requests: number;
    load: string;
  }
  const readResults = new Map<string, { api: ReadRound[]; baseline: ReadRound[] }>();
  const awardResults: { api: AwardRound[]; baseline: AwardRound[] } = { api: [], baseline: [] };
  interface AwardRound {
    perSecond: number;
    landed: number;
    answered: number;
    errors: number;
    p50: number;
    p99: number;
    load: string;
  }

  const measureRead = async (server: ServerProcess, request: (n: number) => HttpRequest): Promise<ReadRound> => {
    const result: LoadResult = await runLoad({
      port: server.port,
      concurrency: 64,
      ratePerSecond: rate,
      next: request,
      warmup: { ms: 1_500 },
      measure: { ms: windowMs },
    });
    if (result.firstError !== null) log(`  ${server.name}: ${result.firstError}`);
    return {
      p50: percentile(result.latenciesMs, 0.5),
      p95: percentile(result.latenciesMs, 0.95),
      p99: percentile(result.latenciesMs, 0.99),
      errors: result.non2xx + result.socketErrors,
      requests: result.requests,
      load: load(),
    };
  };

  const ledgerCount = async () =>
    Number((await client.query<{ n: string }>('select count(*) as n from academy_xp_transactions')).rows[0]!.n);
  const measureAward = async (server: ServerProcess, round: number): Promise<AwardRound> => {
    let n = 0;
    const request = (): HttpRequest => {
      n += 1;
      return {
        method: 'POST',
        path: '/trpc/academy.award',
        headers: { 'x-api-key': awardKey, 'content-type': 'application/json' },
        body: JSON.stringify({
          userId: learnerId(((n * 104_729) % LEARNERS) + 0),
          amount: 10,
          reason: 'lesson',
          sourceEventId: `${server.name}-${round}-${n}-${randomUUID()}`,
        }),
      };
    };
    let before = 0;
    const result = await runLoad({
      port: server.port,
      concurrency: AWARD_CLIENTS,
      next: request,
      warmup: { requests: 200 },
      // Counted after the warmup, so "landed" is the measured window's rows only.
      afterWarmup: async () => {
        before = await ledgerCount();
      },
      measure: { ms: windowMs },
    });
    if (result.firstError !== null) log(`  ${server.name}: ${result.firstError}`);
    const landed = (await ledgerCount()) - before;
    return {
      perSecond: result.throughput,
      landed,
      answered: result.requests - result.non2xx - result.socketErrors,
      errors: result.non2xx + result.socketErrors,
      p50: percentile(result.latenciesMs, 0.5),
      p99: percentile(result.latenciesMs, 0.99),
      load: load(),
    };
  };

  for (let round = 1; round <= rounds; round += 1) {
    for (const read of reads) {
      const entry = readResults.get(read.name) ?? { api: [], baseline: [] };
      readResults.set(read.name, entry);
      // Alternating which goes first, so neither always meets a warmer cache.
      const order = round % 2 === 1 ? [api, baseline] : [baseline, api];
      for (const server of order) {
        const measured = await measureRead(server, read.request);
        (server === api ? entry.api : entry.baseline).push(measured);
        log(
          `round ${round} ${read.name} ${server.name}: p50 ${formatNumber(measured.p50)} p95 ${formatNumber(measured.p95)} ms (load ${measured.load})`,
        );
      }
    }
    for (const server of round % 2 === 1 ? [api, baseline] : [baseline, api]) {
      const measured = await measureAward(server, round);
      (server === api ? awardResults.api : awardResults.baseline).push(measured);
      log(`round ${round} award ${server.name}: ${formatNumber(measured.perSecond)}/s (load ${measured.load})`);
    }
  }

  // Report.
  const incremental = xp?.large.incremental.map((run) => run.seconds * 1000) ?? [];
  const goals: Goal[] = [
    {
      name: `xp-rollup incremental, ${formatNumber(LEDGER.newRows)} new rows on the ${formatNumber(LEDGER.rows)}-row ledger (median)`,
      measured: incremental.length === 0 ? Number.NaN : median(incremental),
      target: 100,
      kind: 'atMost',
      unit: ' ms',
    },
    ...reads.map((read): Goal => ({
      name: `${read.name} with ${formatNumber(LEARNERS)} learners, API p95 (median of rounds)`,
      measured: median(readResults.get(read.name)!.api.map((r) => r.p95)),
      target: 20,
      kind: 'atMost',
      unit: ' ms',
    })),
  ];
  print(`# Academy benchmark, ${new Date().toISOString().slice(0, 10)}`);
  print();
  print(`Command: \`pnpm bench:academy${quick ? ' --quick' : ''}\``);
  print();
  for (const [key, value] of Object.entries(machine)) print(`- ${key}: ${value}`);
  print(
    `- PostgreSQL: ${process.env.DATABASE_URL === undefined ? 'embedded 18 (bench/api/database.ts settings)' : 'DATABASE_URL'}; API and baseline each with a pool of ${POOL_MAX}; API NODE_ENV=production, rate limit off.`,
  );
  print(
    `- Boards: ${formatNumber(LEARNERS)} learners (academy_users) with total XP drawn from a long-tailed distribution (many ties at low XP), a display name each; ${formatNumber(Math.round(LEARNERS * 0.3))} of them with XP this week (academy_weekly_xp, week of ${week}). Seeded with set-based SQL in ${seedSeconds.toFixed(0)} s, then VACUUM ANALYZE.`,
  );
  print(
    `- Reads: open loop at ${rate} req/s per route, ${windowMs / 1000} s measured after a 1.5 s warmup, latency from each request's due time; the caller is one of ${SAMPLE_LEARNERS} learners spread over the board, authenticated with their own read-only API key. Awards: closed loop, ${AWARD_CLIENTS} clients, ${windowMs / 1000} s, one administrator's academy.award key, a new source event per call, random learners; "landed" counts the ledger rows the window added.`,
  );
  print(`- Options: ${process.argv.slice(2).join(' ') || 'none'}.`);
  print(`- Total benchmark time: ${((performance.now() - started) / 60_000).toFixed(1)} min.`);
  print();
  print('## Goals');
  print();
  print(table(['Goal', 'Target', 'Measured', 'Result'], goals.map(goalRow)));
  print();
  print('## XP rollup (bench/maintenance/xp.ts)');
  print();
  if (xp === null) print('Not measured in this run (`--no-xp`).');
  else {
    print(
      `${formatNumber(LEDGER.learners)} learners, 4 missions, 4 badges. Each ledger from an empty rollup state: from scratch is \`{"mode":"rebuild"}\`, then ${XP_ROUNDS} rounds of: append ${formatNumber(LEDGER.newRows)} rows dated today (random learners), run the job with \`{"mode":"incremental"}\`. Load average before / after: ${xpLoadBefore} → ${xpLoadAfter}.`,
    );
    print();
    print(
      table(
        ['Ledger rows', 'Seeded in s', 'From scratch', 'Incremental ms: median [range]', 'Each round'],
        [xp.small, xp.large].map((runs) => [
          formatNumber(runs.ledgerRows),
          runs.seedSeconds.toFixed(1),
          `${formatNumber(runs.fromScratch.seconds)} s`,
          spread(runs.incremental.map((run) => run.seconds * 1000)),
          runs.incremental.map((run) => formatNumber(run.seconds * 1000)).join(', '),
        ]),
      ),
    );
    print();
    print(`From scratch over ${formatNumber(LEDGER.rows)} rows: ${formatNumber(xp.large.fromScratch.seconds)} s.`);
  }
  print();
  print('## Leaderboard and rank: API ÷ bare baseline running the same SQL');
  print();
  print('Latency in ms; each cell the median [range] of the rounds. Load average printed per round.');
  print();
  const rows: string[][] = [];
  for (const read of reads) {
    const { api: a, baseline: b } = readResults.get(read.name)!;
    rows.push([
      read.name,
      spread(a.map((r) => r.p50)),
      spread(a.map((r) => r.p95)),
      spread(a.map((r) => r.p99)),
      spread(b.map((r) => r.p50)),
      spread(b.map((r) => r.p95)),
      formatNumber(median(a.map((r) => r.p95)) / median(b.map((r) => r.p95))),
      `${a.reduce((s, r) => s + r.errors, 0)} / ${b.reduce((s, r) => s + r.errors, 0)}`,
      a.map((r) => r.load).join('; '),
    ]);
  }
  print(
    table(
      [
        'Route',
        'API p50',
        'API p95',
        'API p99',
        'baseline p50',
        'baseline p95',
        'p95 API ÷ baseline',
        'errors API / baseline',
        'load avg during API rounds',
      ],
      rows,
    ),
  );
  print();
  print(`## Award throughput at ${AWARD_CLIENTS} clients`);
  print();
  print(
    table(
      [
        'Server',
        'Awards/s: median [range]',
        'Landed = answered',
        'p50 / p99 ms (median)',
        'Errors',
        'Load avg per round',
      ],
      (['api', 'baseline'] as const).map((name) => {
        const results = awardResults[name];
        return [
          name,
          spread(results.map((r) => r.perSecond)),
          results.map((r) => `${formatNumber(r.landed)} = ${formatNumber(r.answered)}`).join('; '),
          `${formatNumber(median(results.map((r) => r.p50)))} / ${formatNumber(median(results.map((r) => r.p99)))}`,
          String(results.reduce((s, r) => s + r.errors, 0)),
          results.map((r) => r.load).join('; '),
        ];
      }),
    ),
  );
  print();
  print(
    `API ÷ baseline awards/s: ${formatNumber(median(awardResults.api.map((r) => r.perSecond)) / median(awardResults.baseline.map((r) => r.perSecond)))}.`,
  );

  const file =
    args.out ??
    (quick
      ? undefined
      : join(import.meta.dirname, '..', 'results', `academy-${new Date().toISOString().slice(0, 10)}.md`));
  if (file !== undefined) {
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(file, `${out.join('\n')}\n`);
    log(`wrote ${file}`);
  }

  /** Everything on the boards, and keys for a sample of learners and for an awarding backend. */
  async function seedBoards(db: pg.Client) {
    await db.query(
      'truncate academy_xp_transactions, academy_users, academy_user_missions, academy_user_badges, academy_xp_rollup_state, academy_weekly_xp',
    );
    // The ledger kit's first 10,000 learners exist already, unless the XP part was skipped.
    await db.query(
      `insert into users (id, issuer, subject)
       select ${learnerIdSql('u')}, 'bench', 'learner-' || u from generate_series(0, $1::int - 1) u
       on conflict do nothing`,
      [LEARNERS],
    );
    // Long-tailed XP: most learners have little (and tie), a few have a lot.
    await db.query(
      `insert into academy_users (user_id, total_xp, earned_xp, level, display_name)
       select ${learnerIdSql('u')}, x, x, greatest(1, floor((5 + sqrt(25 + 2 * x)) / 10))::int, 'Learner ' || u
         from generate_series(0, $1::int - 1) u,
              lateral (select floor(exp(random() * 11) - 1)::bigint + (u % 2) * 0 as x) xp`,
      [LEARNERS],
    );
    const monday = (
      await db.query<{ week: string }>(
        `select to_char(date_trunc('week', now() at time zone 'UTC'), 'YYYY-MM-DD') as week`,
      )
    ).rows[0]!.week;
    await db.query(
      `insert into academy_weekly_xp (week, user_id, xp)
       select $2::date, ${learnerIdSql('u')}, floor(exp(random() * 7))::bigint
         from generate_series(0, $1::int - 1) u where u % 10 < 3`,
      [LEARNERS, monday],
    );
    const keys: string[] = [];
    const rows: [string, string, string][] = [];
    for (let i = 0; i < SAMPLE_LEARNERS; i += 1) {
      const key = generateApiKey();
      keys.push(key);
      rows.push([learnerId(Math.floor((i * LEARNERS) / SAMPLE_LEARNERS)), key.slice(0, 11), hashApiKey(key)]);
    }
    await db.query(
      `insert into api_keys (user_id, name, key_prefix, key_hash, scopes)
       select u::uuid, 'bench reader', p, h, array['read'] from unnest($1::text[], $2::text[], $3::text[]) as k(u, p, h)`,
      [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])],
    );
    const admin = (
      await db.query<{ id: string }>(
        `insert into users (issuer, subject, role) values ('bench', 'grader-backend', 'admin') returning id`,
      )
    ).rows[0]!.id;
    const award = generateApiKey();
    await db.query(
      `insert into api_keys (user_id, name, key_prefix, key_hash, scopes) values ($1, 'grader', $2, $3, array['academy.award'])`,
      [admin, award.slice(0, 11), hashApiKey(award)],
    );
    await db.query('vacuum (analyze) users, academy_users, academy_weekly_xp, api_keys');
    return { learnerKeys: keys, awardKey: award, week: monday };
  }

  function learnerId(index: number): string {
    return `c0000000-0000-4000-8000-${index.toString(16).padStart(12, '0')}`;
  }
} finally {
  await stopAll();
}
