/**
 * The retention benchmark (issue 8, goal 6): the maintenance benchmark's data (4M messages, a
 * quarter of them in expired sessions, interleaved with live ones in the heap, each live message
 * with its search row), and in the same run, each on a fresh file copy of it:
 * - the retention handler as it was (session by session through the session_id index, kept in
 *   retention-baseline.ts) and the current one (one physical-order sweep of each heap), with and
 *   without `wal_compression`, and the current one with its default pause between batches;
 * - the API's latency at a fixed arrival rate (open loop) without retention, then during it, for
 *   the baseline handler and the current one as shipped.
 *
 *   pnpm bench:retention              3 rounds of each, writes bench/results/retention-<date>.md
 *   pnpm bench:retention --quick      smoke run on the small data set; writes nothing unless --out
 *   options: --rounds N, --impact-rounds N, --rate N (req/s of the API load), --during-seconds N,
 *   --out FILE, --keep-template; DATABASE_URL=… uses that server instead of the embedded PostgreSQL 18
 *
 * Jobs run their handlers in this process on an ORM configured as the worker's; the API runs in
 * a child process; everything shares the machine.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connectionSettingsFromUrl, createOrm, migrate, type MikroORM } from '@threadstore/db';
import type { JobContract } from '@threadstore/worker/jobs';
import pg from 'pg';
import { openBenchDatabase } from '../api/database.ts';
import { makeCorpus } from '../api/dataset.ts';
import { startApi } from '../api/processes.ts';
import { describeMachine, formatNumber, goalRow, median, spread, table } from '../api/report.ts';
import { FULL_SHAPE, QUICK_SHAPE, type MaintenanceShape } from './dataset.ts';
import { jobNamed } from './jobs.ts';
import { batchFigures, impactRound, measureRetention, type ImpactRound, type RetentionRun } from './retention.ts';
import { purgeExpired as baselineHandler } from './retention-baseline.ts';
import { seedConversations } from './seed.ts';
import { seedFingerprint, Snapshots } from './snapshot.ts';

const API_POOL_MAX = 10;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    shape: { type: 'string' },
    variants: { type: 'string' },
    rounds: { type: 'string' },
    'impact-rounds': { type: 'string' },
    rate: { type: 'string' },
    'during-seconds': { type: 'string' },
    out: { type: 'string' },
    // On a DATABASE_URL server the seeded template (4 GiB at full size) is dropped at the end
    // unless this is given, for a series of invocations (e.g. one per handler build) to share it.
    'keep-template': { type: 'boolean', default: false },
  },
});
/**
 * A fifth of the full data set (same mix and interleaving: ~200k expired messages of ~800k), for
 * rounds that would take too long at full size on a shared machine; figures are per 1M messages.
 */
const MEDIUM_SHAPE: MaintenanceShape = { ...FULL_SHAPE, sessions: 2_000, bigSessionMessages: 4_000, memories: 1_200 };
const shapeName = args.shape ?? (args.quick ? 'quick' : 'full');
const shapes: Record<string, MaintenanceShape> = { full: FULL_SHAPE, medium: MEDIUM_SHAPE, quick: QUICK_SHAPE };
const shape: MaintenanceShape =
  shapes[shapeName] ??
  (() => {
    throw new Error(`--shape: one of ${Object.keys(shapes).join(', ')}`);
  })();
const rounds = Number(args.rounds ?? (args.quick ? 1 : 3));
const impactRounds = Number(args['impact-rounds'] ?? (args.quick ? 1 : 3));
const impact = {
  ratePerSecond: Number(args.rate ?? 80),
  warmupMs: args.quick ? 1_000 : 3_000,
  withoutMs: args.quick ? 3_000 : 15_000,
  duringMaxMs: Number(args['during-seconds'] ?? (args.quick ? 10 : 90)) * 1000,
};
const log = (line: string) => process.stderr.write(`${line}\n`);
const loadAverage = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' / ');
const load1 = () => loadavg()[0]!;

interface Variant {
  name: string;
  job: JobContract;
  walCompression: string;
}

const stops: (() => Promise<void>)[] = [];
process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));

try {
  const started = performance.now();
  const machine = describeMachine();
  const db = await openBenchDatabase(process.env.DATABASE_URL, log, {
    database: 'threadstore_bench_maintenance',
    dataDirName: 'postgres-maintenance',
  });
  stops.push(db.stop);
  const current = jobNamed('retention');
  if (!current) throw new Error('the worker registers no retention job');
  const baseline: JobContract = { ...current, handler: baselineHandler as JobContract['handler'] };
  const withPayload = (job: JobContract, payload: Record<string, unknown>): JobContract => ({
    ...job,
    payload: {
      parse: (input: unknown) => job.payload.parse({ ...(input as object), ...payload }),
    } as JobContract['payload'],
  });

  const snapshots = new Snapshots(db.url, shapeName);
  const seeding = await snapshots.prepare(await seedFingerprint(shape), async () => {
    log(`seeding ~${formatNumber(shape.sessions * shape.messagesPerSession)} messages…`);
    return seedConversations(db.url, shape, log);
  });
  if (seeding.reused) log('reusing the data set seeded by an earlier run (same shape and seeding code)');
  const compressions = await supportedCompressions(db.url);
  if (process.env.DATABASE_URL === undefined) stops.push(await keepWalForInspection(db.url));
  const bestCompression = ['lz4', 'zstd', 'pglz'].find((method) => compressions.includes(method)) ?? 'off';

  // The handler compresses its own batches' WAL (payload walCompression: 'auto', with lz4 or zstd
  // where the server has them); 'off' measures it without, and the last variant sets pglz (or
  // the best the server has) server-wide, as the first version of this benchmark did.
  const own = compressions.includes('lz4') ? 'lz4' : compressions.includes('zstd') ? 'zstd' : 'off';
  const off = { walCompression: 'off' } as const;
  // Pauses are named with "(default)" where they are the payload's default, and the shipped
  // variant is the one the worker runs with no payload: the default pause, its own compression.
  const defaultPause = (current.payload.parse({}) as { pause: number }).pause;
  const pause = (value: number) => `pause ${value}${value === defaultPause ? ' (default)' : ''}`;
  const sweep = (value: number, compressed: boolean): Variant => ({
    name: `sweep, ${pause(value)}, ${compressed ? `its own wal_compression (${own})` : 'uncompressed'}`,
    job: withPayload(current, compressed ? { pause: value } : { pause: value, ...off }),
    walCompression: 'off',
  });
  const variants: Variant[] = [
    { name: 'baseline: by session (old SQL)', job: baseline, walCompression: 'off' },
    sweep(0, false),
    sweep(0, true),
    sweep(1, false),
    sweep(1, true),
    sweep(3, false),
    {
      name: `sweep, ${pause(0)}, server-wide wal_compression=${bestCompression}`,
      job: withPayload(current, { pause: 0, ...off }),
      walCompression: bestCompression,
    },
  ];
  const shipped = variants.find((variant) => variant.name === sweep(defaultPause, true).name);
  if (shipped === undefined) throw new Error(`no variant runs the default pause ${defaultPause}`);
  if (!args.quick) log(`data set: ${shapeName}`);
  // --variants 0,3: only those (by index above); the baseline and the shipped one by default in the API rounds.
  const chosen = args.variants === undefined ? variants : args.variants.split(',').map((i) => variants[Number(i)]!);

  const copySeconds: number[] = [];
  const loads: [string, string][] = [['start', loadAverage()]];
  const onFreshCopy = async <T>(
    walCompression: string,
    work: (orm: MikroORM, client: pg.Client) => Promise<T>,
  ): Promise<T> => {
    copySeconds.push(await snapshots.restore());
    await setServer(db.url, { wal_compression: walCompression });
    const orm = await createOrm({ connection: connectionSettingsFromUrl(db.url, 'threadstore-bench-retention') });
    const client = new pg.Client({ connectionString: db.url });
    try {
      await migrate(orm);
      await client.connect();
      return await work(orm, client);
    } finally {
      await client.end();
      await orm.close();
      await setServer(db.url, { wal_compression: 'off' });
    }
  };

  const runs = new Map<string, (RetentionRun & { load: number; searchLeft: number })[]>();
  for (let round = 1; round <= rounds; round += 1) {
    // Rotated each round, so a drift of the machine's load does not always favour the same variant.
    const order = chosen.map((_, i) => chosen[(i + round - 1) % chosen.length]!);
    for (const variant of order) {
      const run = await onFreshCopy(variant.walCompression, async (orm, client) => {
        log(`round ${round}/${rounds}: ${variant.name}…`);
        const measured = await measureRetention(variant.job, orm, client, db.postmasterPid);
        const searchLeft = await orphanedSearchRows(client);
        return { ...measured, load: load1(), searchLeft };
      });
      log(
        `  ${formatNumber(run.messagesDeleted)} messages in ${run.seconds.toFixed(1)} s, WAL ${(run.wal.bytes / 2 ** 30).toFixed(2)} GiB, ` +
          `FPI ${formatNumber(run.wal.fullPageImages ?? Number.NaN)}, load ${run.load.toFixed(2)}; ${run.problems.join('; ') || 'exact'}\n` +
          `  phases: ${Object.entries(run.phaseSeconds)
            .map(
              ([phase, seconds]) =>
                `${phase} ${seconds.toFixed(1)} s / ${((run.phaseWalBytes[phase] ?? 0) / 2 ** 30).toFixed(2)} GiB`,
            )
            .join(', ')}`,
      );
      runs.set(variant.name, [...(runs.get(variant.name) ?? []), run]);
    }
    loads.push([`after retention round ${round}`, loadAverage()]);
  }

  const corpus = makeCorpus();
  const impacts = new Map<string, (ImpactRound & { load: number })[]>();
  for (let round = 1; round <= impactRounds; round += 1) {
    // The API rounds compare the baseline with the shipped default (with --variants: the chosen ones but "pause 0").
    const measured =
      args.variants === undefined
        ? [variants[0]!, shipped]
        : chosen.filter((v) => v === variants[0] || v !== variants[1]);
    const order = round % 2 === 1 ? measured : [...measured].reverse();
    for (const variant of order) {
      const result = await onFreshCopy(variant.walCompression, async (orm, client) => {
        const api = await startApi(db.url, API_POOL_MAX);
        try {
          log(`API impact round ${round}/${impactRounds}: ${variant.name}`);
          return await impactRound(variant.job, orm, client, api, shape, corpus, impact, db.postmasterPid);
        } finally {
          await api.stop();
        }
      });
      log(
        `  p99 append ${formatNumber(result.without.append.p99)} → ${formatNumber(result.during.append.p99)} ms, ` +
          `history ${formatNumber(result.without.history.p99)} → ${formatNumber(result.during.history.p99)} ms; ` +
          `retention ${result.retention.seconds.toFixed(1)} s, ${formatNumber(result.retention.messagesDeleted)} messages`,
      );
      impacts.set(variant.name, [...(impacts.get(variant.name) ?? []), { ...result, load: load1() }]);
    }
    loads.push([`after API round ${round}`, loadAverage()]);
  }
  if (process.env.DATABASE_URL !== undefined && !args['keep-template']) await snapshots.dropTemplate();
  await snapshots.dropWorkingCopy();

  const report = render({
    machine,
    seeding,
    compressions,
    variants: chosen,
    shipped,
    runs,
    impacts,
    copySeconds,
    loads,
    minutes: (performance.now() - started) / 60_000,
  });
  process.stdout.write(`${report}\n`);
  if (!args.quick || args.out !== undefined) {
    const file =
      args.out ?? join(import.meta.dirname, '..', 'results', `retention-${new Date().toISOString().slice(0, 10)}.md`);
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(file, `${report}\n`);
    log(`written to ${file}`);
  }
} finally {
  await stopAll();
}

async function stopAll(): Promise<void> {
  for (const stop of stops.splice(0).reverse()) await stop().catch((error: unknown) => log(String(error)));
}

async function admin<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const server = new URL(url);
  server.pathname = '/postgres';
  const client = new pg.Client({ connectionString: server.toString() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Server-wide settings that a reload applies (ALTER SYSTEM; superuser). */
async function setServer(url: string, settings: Record<string, string>): Promise<void> {
  await admin(url, async (client) => {
    for (const [name, value] of Object.entries(settings)) {
      await client.query(`alter system set ${name} = ${client.escapeLiteral(value)}`);
    }
    await client.query('select pg_reload_conf()');
    // The reload reaches the backends asynchronously; a new connection has it.
    await new Promise((resolve) => setTimeout(resolve, 200));
  });
}

/** The methods this server's wal_compression accepts (lz4 and zstd only where it was built with them). */
async function supportedCompressions(url: string): Promise<string[]> {
  return admin(url, async (client) => {
    const { rows } = await client.query<{ enumvals: string[] }>(
      `select enumvals from pg_settings where name = 'wal_compression'`,
    );
    return rows[0]!.enumvals.filter((value) => !['on', 'off', 'true', 'false', 'yes', 'no', '0', '1'].includes(value));
  });
}

/** Search rows whose message is gone (the table has no foreign key; retention deletes them itself). */
async function orphanedSearchRows(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ n: string }>(
    `select count(*) as n from chat_message_search x where not exists (select from chat_messages m where m.id = x.message_id)`,
  );
  return Number(rows[0]!.n);
}

/** As in main.ts: WAL segments kept long enough for pg_walinspect to read a run's WAL. */
async function keepWalForInspection(url: string): Promise<() => Promise<void>> {
  await admin(url, async (client) => {
    await client.query(`alter system set wal_keep_size = '16GB'`);
    await client.query('select pg_reload_conf()');
  });
  return () =>
    admin(url, async (client) => {
      await client.query('alter system reset wal_keep_size');
      await client.query('alter system reset wal_compression');
      await client.query('select pg_reload_conf()');
      await client.query('checkpoint');
    });
}

interface ReportInput {
  machine: Record<string, string>;
  seeding: {
    report: {
      messages: number;
      expiredMessages: number;
      sessions: number;
      expiredSessions: number;
      messagesTableBytes: number;
      seconds: number;
    };
    seededAt: Date;
    reused: boolean;
  };
  compressions: string[];
  variants: Variant[];
  shipped: Variant;
  runs: Map<string, (RetentionRun & { load: number; searchLeft: number })[]>;
  impacts: Map<string, (ImpactRound & { load: number })[]>;
  copySeconds: number[];
  loads: [string, string][];
  minutes: number;
}

function render(input: ReportInput): string {
  const { machine, seeding, variants, shipped, runs, impacts } = input;
  const gib = (bytes: number) => `${formatNumber(bytes / 2 ** 30)} GiB`;
  const perMillion = (run: RetentionRun) => (run.seconds / Math.max(1, run.messagesDeleted)) * 1e6;
  const baselineName = variants[0]!.name;
  const of = (name: string) => runs.get(name) ?? [];
  const medianOf = (name: string, figure: (run: RetentionRun & { load: number }) => number) =>
    median(of(name).map(figure));
  const p99Ratios = (name: string, route: 'append' | 'history') =>
    (impacts.get(name) ?? []).map((round) => round.during[route].p99 / round.without[route].p99);

  const goals = [
    goalRow({
      name: `retention: seconds per 1M expired messages, ${shipped.name} (median)`,
      measured: medianOf(shipped.name, perMillion),
      target: 30,
      kind: 'atMost',
      unit: ' s',
    }),
    ...variants
      .filter((variant) => variant.name !== baselineName && variant.name !== shipped.name)
      .map((variant) =>
        goalRow({
          name: `retention: seconds per 1M expired messages, ${variant.name} (median; supplementary)`,
          measured: medianOf(variant.name, perMillion),
          target: 30,
          kind: 'atMost',
          unit: ' s',
        }),
      ),
    ...(['append', 'history'] as const).map((route) =>
      goalRow({
        name: `API ${route} p99 during retention ÷ without, ${shipped.name} (median of rounds)`,
        measured: median(p99Ratios(shipped.name, route)),
        target: 1.2,
        kind: 'atMost',
        unit: '×',
      }),
    ),
  ];

  const rows: string[][] = [
    ['Seconds per 1M expired messages', ...variants.map((v) => spread(of(v.name).map(perMillion)))],
    [
      'Ratio to the baseline (median)',
      ...variants.map((v) => formatNumber(medianOf(v.name, perMillion) / medianOf(baselineName, perMillion))),
    ],
    ['Wall time, s', ...variants.map((v) => spread(of(v.name).map((r) => r.seconds)))],
    [
      'Messages deleted (per run)',
      ...variants.map((v) =>
        of(v.name)
          .map((r) => formatNumber(r.messagesDeleted))
          .join(', '),
      ),
    ],
    ['WAL written, GiB', ...variants.map((v) => spread(of(v.name).map((r) => r.wal.bytes / 2 ** 30)))],
    [
      'Of it full-page images, GiB (pg_walinspect)',
      ...variants.map((v) => spread(of(v.name).map((r) => (r.wal.fullPageImageBytes ?? Number.NaN) / 2 ** 30))),
    ],
    [
      'FPI share of WAL bytes, %',
      ...variants.map((v) =>
        spread(of(v.name).map((r) => ((r.wal.fullPageImageBytes ?? Number.NaN) / r.wal.bytes) * 100)),
      ),
    ],
    [
      'Full-page images (pg_stat_wal wal_fpi)',
      ...variants.map((v) => spread(of(v.name).map((r) => r.wal.fullPageImages ?? Number.NaN))),
    ],
    [
      'Checkpoints during the run',
      ...variants.map((v) =>
        of(v.name)
          .map((r) => formatNumber(r.checkpoints))
          .join(', '),
      ),
    ],
    [
      'WAL by kind (last round)',
      ...variants.map((v) => {
        const last = of(v.name).at(-1);
        return last ? last.wal.largest.map((kind) => `${kind.kind} ${gib(kind.bytes)}`).join(', ') : 'n/a';
      }),
    ],
    [
      'Time and WAL by phase (last round)',
      ...variants.map((v) => {
        const last = of(v.name).at(-1);
        if (!last) return 'n/a';
        return Object.entries(last.phaseSeconds)
          .map(
            ([phase, seconds]) =>
              `${phase} ${formatNumber(seconds)} s${last.phaseWalBytes[phase] === undefined ? '' : ` / ${gib(last.phaseWalBytes[phase])}`}`,
          )
          .join(', ');
      }),
    ],
    [
      'Batches: count, median / p90 / max ms (last round)',
      ...variants.map((v) => {
        const last = of(v.name).at(-1);
        if (!last) return 'n/a';
        const b = batchFigures(last);
        return `${formatNumber(b.count)}: ${formatNumber(b.medianMs)} / ${formatNumber(b.p90Ms)} / ${formatNumber(b.maxMs)}`;
      }),
    ],
    [
      'Exactly the expired rows deleted, the rest intact (every round)',
      ...variants.map((v) => {
        const problems = of(v.name).flatMap((r) => r.problems);
        return problems.length === 0 ? 'yes' : `NO: ${problems.join('; ')}`;
      }),
    ],
    [
      'Search rows of deleted messages left',
      ...variants.map((v) =>
        of(v.name)
          .map((r) => formatNumber(r.searchLeft))
          .join(', '),
      ),
    ],
    [
      'Batches skipped on a lock',
      ...variants.map((v) =>
        of(v.name)
          .map((r) => formatNumber(r.lockConflicts))
          .join(', '),
      ),
    ],
    [
      'Machine CPU busy % / of it others % (median)',
      ...variants.map(
        (v) =>
          `${formatNumber(medianOf(v.name, (r) => r.busyPercent))} / ${formatNumber(medianOf(v.name, (r) => r.otherCpuPercent))}`,
      ),
    ],
    [
      '1-min load after each run',
      ...variants.map((v) =>
        of(v.name)
          .map((r) => r.load.toFixed(2))
          .join(', '),
      ),
    ],
  ];

  const impactRows: string[][] = [];
  for (const [name, list] of impacts) {
    list.forEach((round, i) => {
      const cell = (w: { p50: number; p99: number; requests: number; errors: number }) =>
        `${formatNumber(w.p50)} / ${formatNumber(w.p99)} (${formatNumber(w.requests)} req, ${formatNumber(w.errors)} err)`;
      impactRows.push([
        name,
        String(i + 1),
        cell(round.without.append),
        cell(round.during.append),
        formatNumber(round.during.append.p99 / round.without.append.p99),
        cell(round.without.history),
        cell(round.during.history),
        formatNumber(round.during.history.p99 / round.without.history.p99),
        `${formatNumber(round.retention.seconds)} s${round.retention.stoppedEarly ? ' (stopped at the cap)' : ''}, ${formatNumber(round.retention.messagesDeleted)} messages, ${round.retention.problems.length === 0 ? 'exact' : round.retention.problems.join('; ')}`,
        `${formatNumber(round.without.busyPercent)} / ${formatNumber(round.during.busyPercent)}`,
        `${formatNumber(round.without.otherCpuPercent)} / ${formatNumber(round.during.otherCpuPercent)}`,
        round.load.toFixed(2),
      ]);
    });
  }

  const seeded = seeding.report;
  return [
    `# Retention benchmark, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    '## Machine and settings',
    '',
    ...Object.entries(machine).map(([key, value]) => `- ${key}: ${value}`),
    `- Data: ${formatNumber(seeded.sessions)} sessions, ${formatNumber(seeded.messages)} messages (chat_messages ${formatNumber(seeded.messagesTableBytes / 2 ** 20)} MiB with indexes), of them ${formatNumber(seeded.expiredSessions)} expired sessions with ${formatNumber(seeded.expiredMessages)} messages interleaved in the heap with live ones (the maintenance benchmark's data set, seeded ${seeding.reused ? 'by an earlier invocation' : 'by this one'} at ${seeding.seededAt.toISOString()}); every live message has its chat_message_search row, written in time order as the indexer would.`,
    `- wal_compression methods this server accepts: ${input.compressions.join(', ')}`,
    `- Every run starts on a fresh file copy of the seeded database (copies took ${spread(input.copySeconds)} s) right after a CHECKPOINT, so every page a run touches pays one full-page image (FPI), as the first write after any checkpoint does. WAL bytes are pg_current_wal_lsn() before and after, split by pg_walinspect; FPI counts are pg_stat_wal.wal_fpi (server-wide, so they include autovacuum's and, during the API rounds, the API's).`,
    `- Variants: "baseline" is the handler before this change (bench/maintenance/retention-baseline.ts: session by session through the session_id index, whole sessions of up to 5,000 messages per transaction, then a TID-range pass for soft-deleted messages). "sweep" is the current handler (hide the expired sessions, then one physical-order pass over chat_messages and one over chat_message_search, then delete the emptied sessions; batches of about 10 ms, each committed synchronously). "pause" is its payload's idle time after each sweep batch as a multiple of the batch's time; "(default)" marks the shipped default. "its own wal_compression" is the shipped default (payload walCompression 'auto': each batch's transaction sets lz4, else zstd, where the server has one and the role may set it); "uncompressed" passes walCompression 'off'; "server-wide" sets wal_compression with ALTER SYSTEM + reload for that variant only.`,
    `- API impact: apps/api/dist/main.js in a child process (pool ${API_POOL_MAX}), open loop at a fixed ${impact.ratePerSecond} req/s, half messages.append and half last-50 messages.history on live anonymous sessions, latency from each request's due time; ${impact.withoutMs / 1000} s without retention, then a window from retention's start to its end (capped at ${impact.duringMaxMs / 1000} s, after which it is stopped through its abort signal).`,
    `- Load average (1/5/15 min) through the run: ${input.loads.map(([when, value]) => `${when} ${value}`).join('; ')}. The machine is shared with other engineers' builds, tests and benchmarks: absolute seconds move with it, the ratios to the baseline measured in the same round much less.`,
    `- Total benchmark time: ${formatNumber(input.minutes)} min.`,
    '',
    '## Goals',
    '',
    table(['Goal', 'Target', 'Measured', 'Result'], goals),
    '',
    `## Retention alone (${rounds} rounds; median [range])`,
    '',
    table(['', ...variants.map((v) => v.name)], rows),
    '',
    `## API latency without and during retention (${impactRounds} rounds)`,
    '',
    'Latencies in ms as p50 / p99.',
    '',
    table(
      [
        'Handler',
        'Round',
        'append without',
        'append during',
        'p99 ratio',
        'history without',
        'history during',
        'p99 ratio',
        'Retention under load',
        'Machine CPU busy % without / during',
        'Of it others % without / during',
        '1-min load after',
      ],
      impactRows,
    ),
    '',
    ...[...impacts.keys()].map(
      (name) =>
        `Median of the per-round p99 ratios, ${name}: append ${spread(p99Ratios(name, 'append'))}, history ${spread(p99Ratios(name, 'history'))}.`,
    ),
  ].join('\n');
}
