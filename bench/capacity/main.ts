/**
 * Capacity at the SLO (issue 8, goal 3): how many concurrent users the API serves at p95 < 100 ms
 * and p99 < 250 ms, against the bare node:http + pg baseline (bench/api/baseline-server.ts) under
 * the same user model, in the same run.
 *
 *   pnpm bench:capacity                 3 runs, each stepping users up until both servers miss
 *   options: --runs N, --seconds S (measured per step), --warmup S, --steps 250,500,…,
 *            --generators N (load-generator processes), --servers api,baseline, --out FILE,
 *            --reseed (seed again instead of reusing the seeded database),
 *            --api-env KEY=VALUE (repeatable: settings for the API process, for before/after runs)
 *   DATABASE_URL=…  uses that server (the benchmark creates its own threadstore_bench_capacity,
 *                   or BENCH_DATABASE), otherwise an embedded PostgreSQL 18 under bench/.data.
 *
 * The user model (bench/capacity/generator.ts): each user lists its sessions, reads the last page
 * of its session's history, appends a user message and an assistant message, scrolls back a page,
 * and starts over, with an exponential think time (mean 2 s) before each step: about 0.5 requests
 * per second per user, 40% of them writes. Open loop: requests go out when due and are timed from
 * then, so a stall costs latency, not load. A step passes when p95 < 100 ms, p99 < 250 ms and at
 * most 0.1% of requests fail; a server's capacity in a run is its last step that passed before its
 * first miss. Within a step, the API and the baseline run back to back (alternating which goes
 * first), so a disturbance of the shared machine hits both rather than one.
 *
 * Sampled during every step: PostgreSQL's wait events (pg_stat_activity, every 200 ms, this
 * database's client backends), the server's pool waiters and event-loop delay (the API's /metrics,
 * the baseline's /debug/stats, every 500 ms), CPU of the server, PostgreSQL and the generators,
 * WAL written and checkpoints, and the 1-minute load average.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import * as prettier from 'prettier';
import { EMBEDDED_SETTINGS, openBenchDatabase } from '../api/database.ts';
import type { DatasetShape } from '../api/dataset.ts';
import { percentile, send } from '../api/load.ts';
import { machineCpuSeconds, startApi, startBaseline, treeCpuSeconds, type ServerProcess } from '../api/processes.ts';
import { describeMachine, formatNumber, median, spread, table } from '../api/report.ts';
import { seed } from '../api/seed.ts';
import { KINDS, WRITE_KINDS, type StepCommand, type StepResult } from './generator.ts';

/** The API's default DATABASE_POOL_MAX, given to both servers. */
const POOL_MAX = 10;
/** One session per user: 8,000 sessions of 64 messages (two pages and more each). */
const SHAPE: DatasetShape = { sessions: 8_000, messagesPerSession: 64, bigSessionMessages: 0 };
const QUICK_SHAPE: DatasetShape = { sessions: 2_000, messagesPerSession: 64, bigSessionMessages: 0 };
const SLO = { p95: 100, p99: 250, errorShare: 0.001 };
const THINK_MEAN_MS = 2_000;
/** Sockets per generator: far more than a server keeping up needs, so a stall queues requests. */
const MAX_SOCKETS = 512;

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '4' },
    steps: { type: 'string', default: '250,500,1000,1500,2000,2500,3000,3500,4000,5000,6000,8000' },
    generators: { type: 'string', default: '1' },
    servers: { type: 'string', default: 'api,baseline' },
    out: { type: 'string' },
    quick: { type: 'boolean', default: false },
    reseed: { type: 'boolean', default: false },
    'api-env': { type: 'string', multiple: true, default: [] },
    // Settings for api-before only, over --api-env (with --before pointing at this checkout, the
    // same build under two settings: --api-env API_WORKERS=2 --before-env API_WORKERS=1).
    'before-env': { type: 'string', multiple: true, default: [] },
    // Another checkout, built (`pnpm install && turbo run build --filter=@threadstore/api...`):
    // its API is measured too, as `api-before`, in the same run.
    before: { type: 'string' },
  },
});
const shape = args.quick ? QUICK_SHAPE : SHAPE;
const runs = Number(args.runs);
const measureSeconds = Number(args.seconds);
const warmupSeconds = Number(args.warmup);
const steps = args.steps.split(',').map(Number);
const generatorCount = Number(args.generators);
const serverNames = [...(args.before === undefined ? [] : ['api-before']), ...args.servers.split(',')];
const settingsOf = (pairs: string[]) =>
  Object.fromEntries(pairs.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
const beforeEnv = settingsOf(args['before-env']);
const apiEnv = settingsOf(args['api-env']);
const log = (line: string) => process.stderr.write(`${line}\n`);

interface StepStats {
  run: number;
  server: string;
  users: number;
  requests: number;
  /** Answered 2xx per second of the measured window. */
  achieved: number;
  p50: number;
  p95: number;
  p99: number;
  readP95: number;
  readP99: number;
  writeP95: number;
  writeP99: number;
  /** p50 / p99 of each step of the user model. */
  byKind: string;
  errors: number;
  firstError: string | null;
  pass: boolean;
  /** CPU over the step in % of one core. */
  serverCpu: number;
  postgresCpu: number;
  generatorCpu: number;
  generatorLoopP99: number;
  machineBusy: number;
  poolWaitingMax: number;
  poolWaitingMean: number;
  loopDelayMaxMs: number;
  /** Active backends of this database by wait event, as a share of samples (mean backends). */
  waits: Map<string, number>;
  walMiBps: number;
  checkpoints: number;
  load1: number;
}

const stops: (() => Promise<void>)[] = [];
const stopAll = async () => {
  for (const stop of stops.reverse()) await stop().catch(() => {});
};
process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));

try {
  const machine = describeMachine();
  const database = process.env.BENCH_DATABASE ?? 'threadstore_bench_capacity';
  const db = await openBenchDatabase(process.env.DATABASE_URL, log, {
    database,
    dataDirName: 'postgres-capacity',
    keep: !args.reseed,
  });
  stops.push(db.stop);
  const admin = new pg.Client({ connectionString: db.url, application_name: 'threadstore-bench-sampler' });
  await admin.connect();
  stops.push(() => admin.end());
  const sessionsNow = Number((await admin.query<{ n: string }>('select count(*) as n from chat_sessions')).rows[0]!.n);
  if (!db.reused || sessionsNow !== shape.sessions + 1) {
    if (db.reused)
      throw new Error(`${database} holds ${sessionsNow} sessions, not ${shape.sessions + 1}: pass --reseed`);
    log(`seeding ${shape.sessions * shape.messagesPerSession} messages…`);
    const seeded = await seed(db.url, shape, log);
    log(`seeded ${seeded.messages} messages in ${seeded.seconds.toFixed(0)} s`);
  } else {
    log(`reusing the seeded ${database}`);
  }
  const dataNote = (
    await admin.query<{ messages: string; bytes: string }>(
      `select (select count(*) from chat_messages) as messages, pg_total_relation_size('chat_messages') as bytes`,
    )
  ).rows[0]!;
  const postgres = await describePostgres(admin);

  const metricsToken = randomBytes(16).toString('hex');
  const servers: Record<string, ServerProcess> = {};
  for (const name of serverNames) {
    const server =
      name === 'api' || name === 'api-before'
        ? await startApi(
            db.url,
            POOL_MAX,
            undefined,
            {
              // The simulated users are anonymous visitors (X-Session-ID), whose calls the API
              // otherwise caps at 5 running at once (LIMIT_ANONYMOUS_CONCURRENCY): they stand in
              // for signed-in users here, whose calls never wait in that share.
              LIMIT_ANONYMOUS_CONCURRENCY: '100000',
              LIMIT_ANONYMOUS_QUEUE: '100000',
              METRICS_BEARER_TOKEN: metricsToken,
              ...apiEnv,
              ...(name === 'api-before' ? beforeEnv : {}),
            },
            name === 'api' ? undefined : join(args.before!, 'apps/api/dist/main.js'),
          )
        : await startBaseline(db.url, POOL_MAX);
    stops.push(server.stop);
    servers[name] = server;
  }
  const generators = await startGenerators(generatorCount);
  stops.push(async () => generators.forEach((child) => child.kill()));

  const results: StepStats[] = [];
  const started = performance.now();
  for (let run = 1; run <= runs; run += 1) {
    const failed = new Set<string>();
    for (const [index, users] of steps.entries()) {
      // Each server goes first in turn.
      const shift = (index + run) % serverNames.length;
      const order = [...serverNames.slice(shift), ...serverNames.slice(0, shift)];
      for (const name of order) {
        if (failed.has(name)) continue;
        const stats = await measureStep(run, name, servers[name]!, users);
        results.push(stats);
        log(
          `run ${run} ${name.padEnd(8)} ${String(users).padStart(5)} users: ${formatNumber(stats.achieved)} req/s, ` +
            `p50 ${formatNumber(stats.p50)} p95 ${formatNumber(stats.p95)} p99 ${formatNumber(stats.p99)} ms, ` +
            `${stats.errors} errors, ${stats.pass ? 'PASS' : 'MISS'}; load ${stats.load1.toFixed(2)}; ` +
            `gen CPU ${stats.generatorCpu.toFixed(0)}%; srv CPU ${stats.serverCpu.toFixed(0)}%; ` +
            `pool waiting max ${formatNumber(stats.poolWaitingMax)}; waits ${topWaits(stats.waits, 3)}\n    ` +
            `p50/p99 by step: ${stats.byKind}` +
            (stats.firstError === null ? '' : `\n    first error: ${stats.firstError}`),
        );
        if (!stats.pass) failed.add(name);
        // A short pause: the previous step's queue drains before the next starts.
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      }
      if (failed.size === serverNames.length) break;
    }
  }
  const minutes = (performance.now() - started) / 60_000;

  const report = render();
  process.stdout.write(`${report}\n`);
  if (args.out !== undefined) {
    await mkdir(dirname(args.out), { recursive: true });
    await writeFile(
      args.out,
      await prettier.format(report, { ...(await prettier.resolveConfig(args.out)), parser: 'markdown' }),
    );
    log(`wrote ${args.out}`);
  }

  function render(): string {
    const capacity = (name: string, run: number) => {
      const ofRun = results.filter((r) => r.server === name && r.run === run);
      let last = 0;
      for (const step of ofRun) {
        if (!step.pass) break;
        last = step.users;
      }
      return { users: last, topped: ofRun.every((step) => step.pass) };
    };
    const runList = Array.from({ length: runs }, (_, i) => i + 1);
    const capacities = Object.fromEntries(serverNames.map((name) => [name, runList.map((run) => capacity(name, run))]));
    const capacityCell = (c: { users: number; topped: boolean }) => `${formatNumber(c.users)}${c.topped ? '+' : ''}`;
    const ratios =
      capacities.api !== undefined && capacities.baseline !== undefined
        ? runList.map((run) => capacities.api![run - 1]!.users / capacities.baseline![run - 1]!.users)
        : [];
    const apiUsers = capacities.api?.map((c) => c.users) ?? [];
    const baselineUsers = capacities.baseline?.map((c) => c.users) ?? [];

    const curveRows = results.map((r) => [
      String(r.run),
      r.server,
      formatNumber(r.users),
      formatNumber(r.achieved),
      formatNumber(r.p50),
      formatNumber(r.p95),
      formatNumber(r.p99),
      `${formatNumber(r.readP99)} / ${formatNumber(r.writeP99)}`,
      r.errors === 0 ? '0' : `${r.errors} (${formatNumber((r.errors / r.requests) * 100)}%)`,
      r.pass ? 'pass' : '**miss**',
      r.load1.toFixed(2),
    ]);
    const diagnosisRows = results.map((r) => [
      String(r.run),
      r.server,
      formatNumber(r.users),
      `${r.serverCpu.toFixed(0)} / ${Number.isNaN(r.postgresCpu) ? 'n/a' : r.postgresCpu.toFixed(0)} / ${r.generatorCpu.toFixed(0)} / ${r.machineBusy.toFixed(0)}`,
      formatNumber(r.generatorLoopP99),
      `${formatNumber(r.poolWaitingMean)} / ${formatNumber(r.poolWaitingMax)}`,
      formatNumber(r.loopDelayMaxMs),
      topWaits(r.waits, 4),
      formatNumber(r.walMiBps),
      String(r.checkpoints),
      r.load1.toFixed(2),
    ]);

    return [
      `# Capacity at the SLO, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      '',
      '## Machine and settings',
      '',
      ...Object.entries({ ...machine, ...postgres }).map(([key, value]) => `- ${key}: ${value}`),
      `- Data: ${formatNumber(shape.sessions)} sessions of ${shape.messagesPerSession} seeded messages, each owned by its own anonymous visitor (user i owns session i); chat_messages now ${formatNumber(Number(dataNote.messages))} messages, ${formatNumber(Number(dataNote.bytes) / 2 ** 20)} MiB with indexes (the appends of earlier runs stay).`,
      `- User model (bench/capacity/generator.ts): list sessions → last 50 messages → append a user message → append an assistant message (200–800 characters, with a clientMessageId) → the 50 before those → again; exponential think time, mean ${THINK_MEAN_MS / 1000} s, before every step (≈0.5 req/s per user, 40% writes). Open loop, latency from each request's due time. ${generatorCount} generator process(es), keep-alive node:http, up to ${MAX_SOCKETS} sockets each.`,
      `- Steps: ${steps.join(', ')} users; each ${warmupSeconds} s unmeasured then ${measureSeconds} s measured; a server stops stepping after its first miss. SLO: p95 < ${SLO.p95} ms, p99 < ${SLO.p99} ms, errors ≤ ${SLO.errorShare * 100}%.`,
      `- API: apps/api/dist/main.js${
        args.before === undefined
          ? ''
          : ` (and as api-before, ${args.before}'s build of the same${
              Object.keys(beforeEnv).length === 0
                ? ''
                : `, with ${Object.entries(beforeEnv)
                    .map(([k, v]) => `${k}=${v}`)
                    .join(', ')}`
            })`
      }, NODE_ENV=production, DATABASE_POOL_MAX=${POOL_MAX}, RATE_LIMIT_PER_MINUTE=0, LIMIT_ANONYMOUS_CONCURRENCY/QUEUE lifted (the users stand in for signed-in users)${
        Object.keys(apiEnv).length === 0
          ? ''
          : `, ${Object.entries(apiEnv)
              .map(([k, v]) => `${k}=${v}`)
              .join(', ')}`
      }. Baseline: bench/api/baseline-server.ts, pg Pool(max ${POOL_MAX}), same SQL.`,
      `- Whole run: ${formatNumber(minutes)} min. Load average (1/5/15 min) at the end: ${loadavg()
        .map((value) => value.toFixed(2))
        .join(' / ')}`,
      '',
      '## Capacity (users served within the SLO)',
      '',
      table(
        ['Server', ...runList.map((run) => `run ${run}`), 'median [range]'],
        [
          ...serverNames.map((name) => [
            name,
            ...capacities[name]!.map(capacityCell),
            spread(capacities[name]!.map((c) => c.users)),
          ]),
          ...(ratios.length === 0
            ? []
            : [['API ÷ baseline', ...ratios.map((ratio) => formatNumber(ratio)), spread(ratios)]]),
          ...(capacities['api-before'] === undefined || capacities.baseline === undefined
            ? []
            : [
                (() => {
                  const before = runList.map(
                    (run) => capacities['api-before']![run - 1]!.users / capacities.baseline![run - 1]!.users,
                  );
                  return ['api-before ÷ baseline', ...before.map((ratio) => formatNumber(ratio)), spread(before)];
                })(),
              ]),
        ],
      ),
      '',
      '"+" : passed every step tried (the capacity is at least that).',
      '',
      ...(apiUsers.length === 0
        ? []
        : [
            `- Goal ≥ 2,500 users in 3 runs of 3: ${apiUsers.filter((u) => u >= 2_500).length} of ${runs} (${apiUsers.every((u) => u >= 2_500) ? 'PASS' : `MISS; median ${formatNumber(median(apiUsers))}`}).`,
          ]),
      ...(ratios.length === 0
        ? []
        : [
            `- Goal ≥ 0.8× the baseline's users: median of per-run ratios ${formatNumber(median(ratios))}, ratio of medians ${formatNumber(median(apiUsers) / median(baselineUsers))} (${median(ratios) >= 0.8 ? 'PASS' : 'MISS'}).`,
          ]),
      '',
      '## Curve',
      '',
      'Achieved: answered 2xx per second. Latencies in ms over all requests; "read / write p99" splits list and history pages from appends. Load: 1-minute load average at the end of the step.',
      '',
      table(
        ['Run', 'Server', 'Users', 'Achieved req/s', 'p50', 'p95', 'p99', 'read / write p99', 'Errors', 'SLO', 'Load'],
        curveRows,
      ),
      '',
      '## What the machine was doing',
      '',
      "CPU in % of one core over the step: server process / all PostgreSQL processes (every database on the server, other engineers included) / load generators / whole machine (of 200%). Gen loop p99: the generators' event-loop delay (ms; how late requests left). Pool waiting: callers waiting for a pooled connection, mean / max of 500 ms samples. Loop max: the server's worst event-loop delay in ms. Waits: mean number of this database's active backends per wait event (CPU = active, not waiting), from 200 ms samples of pg_stat_activity. WAL: MiB/s written. Ckpt: checkpoints started during the step.",
      '',
      table(
        [
          'Run',
          'Server',
          'Users',
          'CPU % srv / pg / gen / machine',
          'Gen loop p99',
          'Pool waiting',
          'Loop max',
          'Waits (mean backends)',
          'WAL MiB/s',
          'Ckpt',
          'Load',
        ],
        diagnosisRows,
      ),
    ].join('\n');
  }

  async function measureStep(run: number, name: string, server: ServerProcess, users: number): Promise<StepStats> {
    const commands = splitUsers(users, generators.length).map(([from, to]): StepCommand => ({
      port: server.port,
      from,
      to,
      sessions: shape.sessions,
      thinkMeanMs: THINK_MEAN_MS,
      startAt: Date.now() + 200,
      warmupMs: warmupSeconds * 1000,
      measureMs: measureSeconds * 1000,
      drainMs: 10_000,
      maxSockets: MAX_SOCKETS,
    }));
    const samplers = startSamplers(name, server);
    const cpuBefore = cpuSnapshot(server);
    const pgBefore = await pgCounters(admin);
    const outcomes = await Promise.all(generators.map((child, i) => stepOn(child, commands[i]!)));
    const cpuAfter = cpuSnapshot(server);
    const pgAfter = await pgCounters(admin);
    const sampled = await samplers.stop();
    const wallSeconds = cpuAfter.wall - cpuBefore.wall;

    const all: number[] = [];
    const perKind: number[][] = KINDS.map(() => []);
    const reads: number[] = [];
    const writes: number[] = [];
    let failures = 0;
    let firstError: string | null = null;
    for (const outcome of outcomes) {
      firstError ??= outcome.firstError;
      outcome.latencies.forEach((latency, i) => {
        all.push(latency);
        perKind[outcome.kinds[i]!]!.push(latency);
        (WRITE_KINDS.has(KINDS[outcome.kinds[i]!]!) ? writes : reads).push(latency);
        failures += outcome.failed[i]!;
      });
    }
    const sorted = (values: number[]) => Float64Array.from(values).sort();
    const [allSorted, readSorted, writeSorted] = [sorted(all), sorted(reads), sorted(writes)];
    const p95 = percentile(allSorted, 0.95);
    const p99 = percentile(allSorted, 0.99);
    const percentOfCore = (seconds: number) => (seconds / wallSeconds) * 100;
    return {
      run,
      server: name,
      users,
      requests: all.length,
      achieved: (all.length - failures) / measureSeconds,
      p50: percentile(allSorted, 0.5),
      p95,
      p99,
      readP95: percentile(readSorted, 0.95),
      readP99: percentile(readSorted, 0.99),
      writeP95: percentile(writeSorted, 0.95),
      writeP99: percentile(writeSorted, 0.99),
      byKind: KINDS.map((kind, k) => {
        const values = sorted(perKind[k]!);
        return `${kind} ${formatNumber(percentile(values, 0.5))}/${formatNumber(percentile(values, 0.99))}`;
      }).join(', '),
      errors: failures,
      firstError,
      pass: p95 < SLO.p95 && p99 < SLO.p99 && failures <= all.length * SLO.errorShare,
      serverCpu: percentOfCore(cpuAfter.server - cpuBefore.server),
      postgresCpu: db.postmasterPid === null ? Number.NaN : percentOfCore(cpuAfter.postgres - cpuBefore.postgres),
      generatorCpu: percentOfCore(outcomes.reduce((sum, o) => sum + o.cpuMs, 0) / 1000),
      generatorLoopP99: Math.max(...outcomes.map((o) => o.loopDelayP99Ms)),
      machineBusy:
        ((cpuAfter.machine.busy - cpuBefore.machine.busy) / (cpuAfter.machine.total - cpuBefore.machine.total)) * 200,
      ...sampled,
      walMiBps: (pgAfter.walBytes - pgBefore.walBytes) / 2 ** 20 / wallSeconds,
      checkpoints: pgAfter.checkpoints - pgBefore.checkpoints,
      load1: loadavg()[0]!,
    };
  }

  function cpuSnapshot(server: ServerProcess) {
    return {
      wall: performance.now() / 1000,
      server: treeCpuSeconds(server.pid),
      postgres: db.postmasterPid === null ? 0 : treeCpuSeconds(db.postmasterPid),
      machine: machineCpuSeconds(),
    };
  }

  /** Wait events of this database's backends, and the server's pool and event loop, while a step runs. */
  function startSamplers(name: string, server: ServerProcess) {
    let stopped = false;
    const waits = new Map<string, number>();
    let waitSamples = 0;
    const pool: number[] = [];
    let loopDelayMaxMs = 0;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const activity = (async () => {
      while (!stopped) {
        const { rows } = await admin.query<{ wait: string; n: string }>(
          `select coalesce(wait_event_type || ':' || wait_event, 'CPU') as wait, count(*) as n
             from pg_stat_activity
            where datname = current_database() and backend_type = 'client backend' and pid <> pg_backend_pid()
              and state in ('active', 'idle in transaction')
            group by 1`,
        );
        for (const row of rows) waits.set(row.wait, (waits.get(row.wait) ?? 0) + Number(row.n));
        waitSamples += 1;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    const serverSide = (async () => {
      while (!stopped) {
        try {
          if (name.startsWith('api')) {
            const { body } = await send(agent, server.port, {
              method: 'GET',
              path: '/metrics',
              headers: { authorization: `Bearer ${metricsToken}` },
            });
            pool.push(metric(body, 'threadstore_db_pool_waiting_requests'));
            loopDelayMaxMs = Math.max(loopDelayMaxMs, metric(body, 'nodejs_eventloop_lag_max_seconds') * 1000);
          } else {
            const { body } = await send(agent, server.port, { method: 'GET', path: '/debug/stats', headers: {} });
            const stats = JSON.parse(body) as { poolWaiting: number; loopDelayMaxMs: number };
            pool.push(stats.poolWaiting);
            loopDelayMaxMs = Math.max(loopDelayMaxMs, stats.loopDelayMaxMs);
          }
        } catch {
          // A server too busy to answer shows in the latencies.
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    })();
    return {
      stop: async () => {
        stopped = true;
        await Promise.all([activity, serverSide]);
        agent.destroy();
        for (const [key, value] of waits) waits.set(key, value / Math.max(1, waitSamples));
        return {
          waits,
          poolWaitingMax: pool.length === 0 ? Number.NaN : Math.max(...pool),
          poolWaitingMean: pool.length === 0 ? Number.NaN : pool.reduce((a, b) => a + b, 0) / pool.length,
          loopDelayMaxMs,
        };
      },
    };
  }
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await stopAll();
}

function topWaits(waits: Map<string, number>, count: number): string {
  return (
    [...waits.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([wait, mean]) => `${wait} ${formatNumber(mean)}`)
      .join(', ') || '—'
  );
}

function metric(body: string, name: string): number {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(body);
  return match === null ? Number.NaN : Number(match[1]);
}

function splitUsers(users: number, parts: number): [number, number][] {
  return Array.from({ length: parts }, (_, i) => [
    Math.floor((users * i) / parts),
    Math.floor((users * (i + 1)) / parts),
  ]);
}

async function startGenerators(count: number): Promise<ChildProcess[]> {
  return Array.from({ length: count }, () =>
    fork(join(import.meta.dirname, 'generator.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
}

function stepOn(child: ChildProcess, command: StepCommand): Promise<StepResult> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`a load generator exited (${code})`));
    child.once('exit', onExit);
    child.once('message', (result) => {
      child.off('exit', onExit);
      resolve(result as StepResult);
    });
    child.send(command);
  });
}

async function pgCounters(client: pg.Client): Promise<{ walBytes: number; checkpoints: number }> {
  const wal = await client.query<{ lsn: string }>(`select pg_current_wal_lsn() - '0/0'::pg_lsn as lsn`);
  let checkpoints: number;
  try {
    checkpoints = Number(
      (await client.query<{ n: string }>(`select num_timed + num_requested as n from pg_stat_checkpointer`)).rows[0]!.n,
    );
  } catch {
    checkpoints = Number(
      (await client.query<{ n: string }>(`select checkpoints_timed + checkpoints_req as n from pg_stat_bgwriter`))
        .rows[0]!.n,
    );
  }
  return { walBytes: Number(wal.rows[0]!.lsn), checkpoints };
}

async function describePostgres(client: pg.Client): Promise<Record<string, string>> {
  const show = async (name: string) => (await client.query<Record<string, string>>(`show ${name}`)).rows[0]![name]!;
  const settings = [
    'shared_buffers',
    'max_wal_size',
    'checkpoint_timeout',
    'wal_compression',
    'synchronous_commit',
    'fsync',
    'max_connections',
  ];
  const values: string[] = [];
  for (const name of settings) values.push(`${name}=${await show(name)}`);
  return {
    PostgreSQL: `${await show('server_version')} (${process.env.DATABASE_URL === undefined ? `embedded, started with ${EMBEDDED_SETTINGS.join(', ')}` : 'DATABASE_URL'}), same machine`,
    'PostgreSQL settings': values.join(', '),
  };
}
