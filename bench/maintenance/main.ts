/**
 * The maintenance benchmark (issue 4): retention over 4M messages of which a quarter have
 * expired (time, WAL, correctness, the API's latency while it runs), vacuum-analyze after it,
 * and the XP rollup from scratch and incrementally over a 1M-row ledger.
 *
 *   pnpm bench:maintenance            full run, writes bench/results/maintenance-<date>.md: ~17 min on a
 *                                     2-core box, plus the seeding of 4M messages the first time (~30 min
 *                                     there; its template database is reused for a week, see snapshot.ts)
 *   pnpm bench:maintenance --quick    smoke run on a small data set; writes nothing unless --out
 *   options: --rounds N (API impact rounds), --xp-rounds N, --rate N (req/s of the API load),
 *   --during-seconds N (cap of the window during retention), --no-fk-variant, --out FILE;
 *   DATABASE_URL=… uses that server instead of an embedded one
 *
 * Jobs run their real handlers in this process, on an ORM configured as the worker's (pool of
 * 10, 30 s statement timeout); the API runs in a child process; everything shares the machine.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connectionSettingsFromUrl, createOrm, migrate, type MikroORM } from '@threadstore/db';
import pg from 'pg';
import { EMBEDDED_SETTINGS, openBenchDatabase } from '../api/database.ts';
import { makeCorpus } from '../api/dataset.ts';
import { startApi } from '../api/processes.ts';
import { describeMachine, formatNumber, goalRow, median, spread, table, type Goal } from '../api/report.ts';
import { FULL_SHAPE, liveAnonymousCount, liveCount, QUICK_SHAPE, type MaintenanceShape } from './dataset.ts';
import { jobNamed } from './jobs.ts';
import {
  batchFigures,
  explainMessageDelete,
  impactRound,
  measureRetention,
  perRowForeignKeys,
  PER_ROW_FOREIGN_KEYS,
  togglePerRowForeignKeys,
  type DeleteExplained,
  type ImpactRound,
  type ImpactSettings,
  type RetentionRun,
} from './retention.ts';
import { seedConversations, type SeedReport } from './seed.ts';
import { seedFingerprint, Snapshots } from './snapshot.ts';
import { measureVacuum, type VacuumRun } from './vacuum.ts';
import { measureXp, type XpResults } from './xp.ts';

/** The API's default DATABASE_POOL_MAX. */
const API_POOL_MAX = 10;
/** The retention payload's default, which the runs use (they pass no payload). */
const RETENTION_BATCH_SIZE = 5_000;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    'xp-rounds': { type: 'string' },
    rate: { type: 'string' },
    'during-seconds': { type: 'string' },
    'no-fk-variant': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const shape: MaintenanceShape = args.quick ? QUICK_SHAPE : FULL_SHAPE;
const impactRounds = Number(args.rounds ?? (args.quick ? 1 : 3));
const xpRounds = Number(args['xp-rounds'] ?? (args.quick ? 3 : 7));
const impact: ImpactSettings = {
  ratePerSecond: Number(args.rate ?? 80),
  warmupMs: args.quick ? 1_000 : 3_000,
  withoutMs: args.quick ? 3_000 : 15_000,
  duringMaxMs: Number(args['during-seconds'] ?? (args.quick ? 10 : 60)) * 1000,
};
const log = (line: string) => process.stderr.write(`${line}\n`);
const loadAverage = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' / ');

const stops: (() => Promise<void>)[] = [];
process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));

try {
  const benchStarted = performance.now();
  const machine = describeMachine();
  const db = await openBenchDatabase(process.env.DATABASE_URL, log, {
    database: 'threadstore_bench_maintenance',
    dataDirName: 'postgres-maintenance',
  });
  stops.push(db.stop);
  const loads: [string, string][] = [['start', loadAverage()]];

  const retentionJob = jobNamed('retention');
  const vacuumJob = jobNamed('vacuum-analyze');
  const xpJob = jobNamed('xp-rollup');
  if (!retentionJob || !vacuumJob) throw new Error('the worker registers no retention or vacuum-analyze job');

  const snapshots = new Snapshots(db.url, args.quick ? 'quick' : 'full');
  const seeding = await snapshots.prepare(await seedFingerprint(shape), async () => {
    log(
      `seeding ${formatNumber(shape.sessions)} sessions, ~${formatNumber(shape.sessions * shape.messagesPerSession)} messages…`,
    );
    const report = await seedConversations(db.url, shape, log);
    log(`seeded ${formatNumber(report.messages)} messages in ${report.seconds.toFixed(0)} s`);
    return report;
  });
  if (seeding.reused) log('reusing the data set seeded by an earlier run (same shape and seeding code)');
  loads.push(['after seeding', loadAverage()]);
  if (process.env.DATABASE_URL === undefined) stops.push(await keepWalForInspection(db.url));

  const copySeconds: number[] = [];
  const migratedOnCopies = new Set<string>();
  /**
   * Runs `work` on a fresh copy of the seeded data, brought up to the current migrations, with
   * the worker's ORM and a plain connection.
   */
  const onFreshCopy = async <T>(work: (orm: MikroORM, client: pg.Client) => Promise<T>): Promise<T> => {
    copySeconds.push(await snapshots.restore());
    const orm = await createOrm({ connection: connectionSettingsFromUrl(db.url, 'threadstore-bench-maintenance') });
    const client = new pg.Client({ connectionString: db.url });
    try {
      for (const name of await migrate(orm)) migratedOnCopies.add(name);
      await client.connect();
      return await work(orm, client);
    } finally {
      await client.end();
      await orm.close();
    }
  };

  // On the schema as migrated; then on the variant with the per-row foreign keys toggled.
  const runs: { schema: string; explained: DeleteExplained; run: RetentionRun }[] = [];
  const retentionOn = async (orm: MikroORM, client: pg.Client, schema: string) => {
    const explained = await explainMessageDelete(client, RETENTION_BATCH_SIZE);
    log(`retention on the ${schema}…`);
    const run = await measureRetention(retentionJob, orm, client, db.postmasterPid);
    log(
      `  ${formatNumber(run.messagesDeleted)} messages in ${run.seconds.toFixed(1)} s; ${run.problems.join('; ') || 'exact'}`,
    );
    runs.push({ schema, explained, run });
    loads.push([`after retention (${schema})`, loadAverage()]);
    return run;
  };
  let keysInSchema: string[] = [];
  let postgres: Record<string, string> = {};
  const vacuum = await onFreshCopy(async (orm, client) => {
    postgres = await describePostgres(client);
    keysInSchema = await perRowForeignKeys(client);
    const first = await retentionOn(orm, client, 'current schema');
    log('vacuum-analyze…');
    const result = await measureVacuum(vacuumJob, orm, client, first.messagesDeleted);
    log(`  ${result.seconds.toFixed(1)} s`);
    return result;
  });
  const keysPresent = keysInSchema.length === PER_ROW_FOREIGN_KEYS.length;
  if (!args['no-fk-variant']) {
    await onFreshCopy(async (orm, client) => {
      await togglePerRowForeignKeys(client, keysPresent);
      await retentionOn(orm, client, keysPresent ? 'variant: per-row FKs dropped' : 'variant: per-row FKs re-added');
    });
  }

  const corpus = makeCorpus();
  const rounds: ImpactRound[] = [];
  for (let round = 1; round <= impactRounds; round += 1) {
    rounds.push(
      await onFreshCopy(async (orm, client) => {
        const api = await startApi(db.url, API_POOL_MAX);
        try {
          log(`API impact: round ${round}/${impactRounds}`);
          const result = await impactRound(retentionJob, orm, client, api, shape, corpus, impact, db.postmasterPid);
          log(
            `  p99 append ${formatNumber(result.without.append.p99)} → ${formatNumber(result.during.append.p99)} ms, ` +
              `history ${formatNumber(result.without.history.p99)} → ${formatNumber(result.during.history.p99)} ms`,
          );
          loads.push([`after API impact round ${round}`, loadAverage()]);
          return result;
        } finally {
          await api.stop();
        }
      }),
    );
  }

  let xp: XpResults | undefined;
  if (xpJob) {
    // On the last copy as it is: the academy tables are apart from the conversations.
    const orm = await createOrm({ connection: connectionSettingsFromUrl(db.url, 'threadstore-bench-maintenance') });
    try {
      xp = await measureXp(xpJob, orm, db.url, shape.ledger, xpRounds, log);
    } finally {
      await orm.close();
    }
    loads.push(['after the XP rollup', loadAverage()]);
  } else {
    log('xp-rollup is not registered in the worker: its figures are missing from this run');
  }
  // The template stays on the embedded server for the next run, not on someone else's server;
  // the working copy (as big) goes either way.
  if (process.env.DATABASE_URL !== undefined) await snapshots.dropTemplate();
  await snapshots.dropWorkingCopy();

  const report = render({
    machine,
    postgres,
    loads,
    seeded: seeding.report,
    seedReused: seeding.reused,
    seededAt: seeding.seededAt,
    migratedOnCopies: [...migratedOnCopies],
    runs,
    vacuum,
    copySeconds,
    keysInSchema,
    rounds,
    xp,
    minutes: (performance.now() - benchStarted) / 60_000,
  });
  process.stdout.write(`${report}\n`);
  if (!args.quick || args.out !== undefined) {
    const file =
      args.out ?? join(import.meta.dirname, '..', 'results', `maintenance-${new Date().toISOString().slice(0, 10)}.md`);
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

/**
 * A purge writes more WAL than max_wal_size, and checkpoints recycle segments, so pg_walinspect
 * could no longer read what a run wrote. On the benchmark's own embedded server only, segments
 * are kept long enough to be inspected right after each run; the returned function puts the
 * setting back, and a checkpoint then frees the disk space they took.
 */
async function keepWalForInspection(url: string): Promise<() => Promise<void>> {
  const server = new URL(url);
  server.pathname = '/postgres';
  const configure = async (statements: string[]) => {
    const client = new pg.Client({ connectionString: server.toString() });
    await client.connect();
    try {
      for (const statement of statements) await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await configure([`alter system set wal_keep_size = '16GB'`, 'select pg_reload_conf()']);
  return () => configure(['alter system reset wal_keep_size', 'select pg_reload_conf()', 'checkpoint']);
}

async function describePostgres(client: pg.Client): Promise<Record<string, string>> {
  const show = async (name: string) => (await client.query<Record<string, string>>(`show ${name}`)).rows[0]![name]!;
  const settings = [
    'shared_buffers',
    'max_wal_size',
    'checkpoint_timeout',
    'synchronous_commit',
    'full_page_writes',
    'autovacuum',
    'maintenance_work_mem',
    'wal_keep_size',
    'data_checksums',
  ];
  const values: string[] = [];
  for (const name of settings) values.push(`${name}=${await show(name)}`);
  const where =
    process.env.DATABASE_URL === undefined ? `embedded, started with ${EMBEDDED_SETTINGS.join(', ')}` : 'DATABASE_URL';
  return {
    PostgreSQL: `${await show('server_version')} (${where}), same machine`,
    'PostgreSQL settings': values.join(', '),
  };
}

interface ReportInput {
  machine: Record<string, string>;
  postgres: Record<string, string>;
  loads: [string, string][];
  seeded: SeedReport;
  seedReused: boolean;
  seededAt: Date;
  migratedOnCopies: string[];
  runs: { schema: string; explained: DeleteExplained; run: RetentionRun }[];
  vacuum: VacuumRun;
  copySeconds: number[];
  keysInSchema: string[];
  rounds: ImpactRound[];
  xp: XpResults | undefined;
  minutes: number;
}

function render(input: ReportInput): string {
  const { machine, postgres, loads, seeded, runs, vacuum, rounds, xp } = input;
  const mb = (bytes: number) => `${formatNumber(bytes / 2 ** 20)} MiB`;
  const ms = (seconds: number) => seconds * 1000;
  const perMillion = (run: RetentionRun) => (run.seconds * 1_000_000) / run.messagesDeleted;

  const goal =
    (kind: Goal['kind']) =>
    (name: string, measured: number, target: number, unit: string): Goal => ({ name, measured, target, kind, unit });
  const atMost = goal('atMost');

  const ratios = (side: 'append' | 'history') =>
    rounds.map((round) => round.during[side].p99 / round.without[side].p99);
  const xpMedianMs = (runs: XpResults['large']) => median(runs.incremental.map((run) => ms(run.seconds)));
  const goals: Goal[] = [
    ...runs.map(({ schema, run }) =>
      atMost(`retention: seconds per 1M expired messages, ${schema}`, perMillion(run), 30, ' s'),
    ),
    atMost(
      `API append p99 during retention ÷ without (median of ${rounds.length} rounds)`,
      median(ratios('append')),
      1.2,
      '×',
    ),
    atMost(
      `API history p99 during retention ÷ without (median of ${rounds.length} rounds)`,
      median(ratios('history')),
      1.2,
      '×',
    ),
    atMost(
      `xp-rollup incremental, ${formatNumber(xp?.newRows ?? 0)} new rows on the ${formatNumber(xp?.large.ledgerRows ?? 0)}-row ledger (median)`,
      xp ? xpMedianMs(xp.large) : Number.NaN,
      100,
      ' ms',
    ),
    atMost(
      `xp-rollup incremental on the ${formatNumber(xp?.large.ledgerRows ?? 0)} ÷ ${formatNumber(xp?.small.ledgerRows ?? 0)}-row ledger (supplementary: "~1")`,
      xp ? xpMedianMs(xp.large) / xpMedianMs(xp.small) : Number.NaN,
      1.5,
      '×',
    ),
    ...runs.map(({ schema, run }) =>
      atMost(`retention batch p90 (perf notes goal 8; supplementary), ${schema}`, batchFigures(run).p90Ms, 100, ' ms'),
    ),
  ];

  const gib = (bytes: number) => `${formatNumber(bytes / 2 ** 30)} GiB`;
  const perRun = (figure: (entry: ReportInput['runs'][number]) => string) => runs.map(figure);
  const retentionRows: string[][] = [
    ['Wall time', ...perRun(({ run }) => `${formatNumber(run.seconds)} s`)],
    ['Seconds per 1M expired messages', ...perRun(({ run }) => `${formatNumber(perMillion(run))} s`)],
    [
      "Expired at the run's cutoff: sessions / messages / memories",
      ...perRun(
        ({ run }) =>
          `${formatNumber(run.expected.sessions)} / ${formatNumber(run.expected.messages)} / ${formatNumber(run.expected.memories)}`,
      ),
    ],
    [
      'Deleted: sessions / messages / memories',
      ...perRun(
        ({ run }) =>
          `${formatNumber(run.sessionsDeleted)} / ${formatNumber(run.messagesDeleted)} / ${formatNumber(run.memoriesDeleted)}`,
      ),
    ],
    ['Messages deleted per second', ...perRun(({ run }) => formatNumber(run.messagesDeleted / run.seconds))],
    [
      'WAL written (of it full-page images)',
      ...perRun(
        ({ run }) =>
          `${gib(run.wal.bytes)}${run.wal.fullPageImageBytes === null ? '' : ` (${gib(run.wal.fullPageImageBytes)})`}`,
      ),
    ],
    ['Checkpoints during the run', ...perRun(({ run }) => formatNumber(run.checkpoints))],
    [
      'WAL by kind (pg_walinspect)',
      ...perRun(({ run }) => run.wal.largest.map((kind) => `${kind.kind} ${gib(kind.bytes)}`).join(', ')),
    ],
    [
      'Time and WAL by phase',
      ...perRun(({ run }) =>
        Object.entries(run.phaseSeconds)
          .map(
            ([phase, seconds]) =>
              `${phase} ${formatNumber(seconds)} s${run.phaseWalBytes[phase] === undefined ? '' : ` / ${gib(run.phaseWalBytes[phase])}`}`,
          )
          .join(', '),
      ),
    ],
    [
      'Batches: count, median / p90 / max ms',
      ...perRun(({ run }) => {
        const batches = batchFigures(run);
        return `${formatNumber(batches.count)}: ${formatNumber(batches.medianMs)} / ${formatNumber(batches.p90Ms)} / ${formatNumber(batches.maxMs)}`;
      }),
    ],
    ['Messages per session batch (median)', ...perRun(({ run }) => formatNumber(batchFigures(run).medianMessages))],
    [
      'Exactly the expired rows deleted, the rest intact',
      ...perRun(({ run }) => (run.problems.length === 0 ? 'yes' : `NO: ${run.problems.join('; ')}`)),
    ],
    [
      'References to deleted messages left: memories / parent_id',
      ...perRun(({ run }) => `${formatNumber(run.dangling.memories)} / ${formatNumber(run.dangling.parents)}`),
    ],
    ['Batches skipped on a lock', ...perRun(({ run }) => formatNumber(run.lockConflicts))],
    [
      'Machine CPU busy % / of it others %',
      ...perRun(({ run }) => `${formatNumber(run.busyPercent)} / ${formatNumber(run.otherCpuPercent)}`),
    ],
  ];

  const explainRows: string[][] = [
    [
      'Batch',
      ...perRun(
        ({ explained }) => `${formatNumber(explained.sessions)} sessions, ${formatNumber(explained.messages)} messages`,
      ),
    ],
    ['Execution time', ...perRun(({ explained }) => `${formatNumber(explained.executionMs)} ms`)],
    [
      'Trigger time (share of execution)',
      ...perRun(({ explained }) => {
        const triggered = explained.triggers.reduce((total, trigger) => total + trigger.ms, 0);
        const share = `${formatNumber((triggered / explained.executionMs) * 100)}%`;
        const each = explained.triggers.map(
          (trigger) => `${trigger.name}: ${formatNumber(trigger.calls)} calls, ${formatNumber(trigger.ms)} ms`,
        );
        return `${formatNumber(triggered)} ms (${share})${each.length === 0 ? '' : `: ${each.join('; ')}`}`;
      }),
    ],
    [
      'Shared buffers: hit / read / dirtied / written',
      ...perRun(
        ({ explained }) =>
          `${formatNumber(explained.buffers.hit)} / ${formatNumber(explained.buffers.read)} / ${formatNumber(explained.buffers.dirtied)} / ${formatNumber(explained.buffers.written)}`,
      ),
    ],
    [
      'I/O time (track_io_timing)',
      ...perRun(({ explained }) => (explained.ioMs === null ? 'n/a' : `${formatNumber(explained.ioMs)} ms`)),
    ],
    [
      'WAL: records / full-page images / bytes',
      ...perRun(
        ({ explained }) =>
          `${formatNumber(explained.wal.records)} / ${formatNumber(explained.wal.fullPageImages)} / ${mb(explained.wal.bytes)}`,
      ),
    ],
  ];

  const side = (round: ImpactRound, window: 'without' | 'during', name: 'append' | 'history') => {
    const stats = round[window][name];
    return `${formatNumber(stats.p50)} / ${formatNumber(stats.p99)} (${formatNumber(stats.requests)} req, ${stats.errors} err)`;
  };
  const impactRows = rounds.map((round, index) => [
    String(index + 1),
    side(round, 'without', 'append'),
    side(round, 'during', 'append'),
    formatNumber(round.during.append.p99 / round.without.append.p99),
    side(round, 'without', 'history'),
    side(round, 'during', 'history'),
    formatNumber(round.during.history.p99 / round.without.history.p99),
    `${formatNumber(round.retention.seconds)} s${round.retention.stoppedEarly ? ' (stopped at the cap)' : ''}, ${formatNumber(round.retention.messagesDeleted)} messages deleted${round.retention.problems.length === 0 ? ', the rest intact' : `; NO: ${round.retention.problems.join('; ')}`}`,
    `${formatNumber(round.without.busyPercent)} / ${formatNumber(round.during.busyPercent)}`,
    `${formatNumber(round.without.otherCpuPercent)} / ${formatNumber(round.during.otherCpuPercent)}`,
  ]);
  const errorsSeen = rounds.flatMap((round) =>
    (['without', 'during'] as const).flatMap((window) =>
      (['append', 'history'] as const).flatMap((name) => round[window][name].firstError ?? []),
    ),
  );

  const vacuumRows = vacuum.tables.map((entry) => [
    entry.table,
    entry.reason,
    entry.outcome,
    formatNumber(entry.deadTuplesBefore),
    entry.deadTuplesAfter === undefined ? 'n/a' : formatNumber(entry.deadTuplesAfter),
    entry.durationMs === undefined ? 'n/a' : formatNumber(entry.durationMs / 1000),
  ]);

  const xpRows = xp
    ? [xp.small, xp.large].map((ledger) => [
        formatNumber(ledger.ledgerRows),
        formatNumber(ledger.seedSeconds),
        `${formatNumber(ledger.fromScratch.seconds)} s (${formatNumber(ledger.ledgerRows / ledger.fromScratch.seconds)} rows/s)`,
        spread(ledger.incremental.map((run) => ms(run.seconds))),
        ledger.incremental.map((run) => formatNumber(ms(run.seconds))).join(', '),
      ])
    : [];

  const live = liveCount(shape);
  return [
    `# Maintenance benchmark, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC${args.quick ? ' (--quick smoke run)' : ''}`,
    '',
    '## Machine and settings',
    '',
    ...Object.entries({ ...machine, ...postgres }).map(([key, value]) => `- ${key}: ${value}`),
    `- Load average (1/5/15 min) through the run: ${loads.map(([when, value]) => `${when} ${value}`).join('; ')}. The machine is shared with other engineers' builds and tests; the CPU columns show how busy the machine was while a figure was measured and how much of it was processes outside this benchmark (PostgreSQL, the API and this process are the benchmark's).`,
    `- Data: ${formatNumber(seeded.sessions)} sessions with ${formatNumber(seeded.messages)} messages (chat_messages ${mb(seeded.messagesTableBytes)} with indexes and TOAST), seeded in ${formatNumber(seeded.seconds)} s${input.seedReused ? ` by an earlier invocation at ${input.seededAt.toISOString().slice(0, 16).replace('T', ' ')} UTC (its template database was reused: same shape and seeding code; ages below are as of then)` : ''}, then VACUUM ANALYZE and CHECKPOINT${input.migratedOnCopies.length === 0 ? '' : `; migrations newer than the seeding, applied to each copy before it was measured: ${input.migratedOnCopies.join(', ')}`}. ${formatNumber(liveAnonymousCount(shape))} anonymous sessions active in the last 20 days, ${formatNumber(live - liveAnonymousCount(shape))} users' sessions last active 30–89 days ago (kept by the 90-day policy), ${formatNumber(seeded.expiredSessions)} users' sessions last active 91–371 days ago holding ${formatNumber(seeded.expiredMessages)} messages (the expired quarter). 0.5–1.5× ${shape.messagesPerSession} messages per session, plus one live and one expired session of ${formatNumber(shape.bigSessionMessages)} (emptied over several batches). Messages are written in time order (${shape.slices} slices, two connections): live sessions began up to 400 days ago, so the expired sessions' messages share heap pages with live ones. User messages 200–800 characters, assistant answers one or two such paragraphs (200–1,600) with model, tokens and cost; ${formatNumber(seeded.chainedMessages)} messages in parent_id chains (${formatNumber(shape.chainedShare * 100)}% of sessions); ${formatNumber(seeded.memories)} memories (short-term, episodic, long-term), each citing a message, half of them expired ones.`,
    `- Retention: the worker's retention handler (apps/worker/src/jobs/retention) with its default payload (batch size ${formatNumber(RETENTION_BATCH_SIZE)}), run in this process on an ORM configured as the worker's. WAL is pg_wal_lsn_diff of pg_current_wal_lsn() before and after, split by pg_walinspect's pg_get_wal_stats (the largest four kinds shown); the run starts right after a CHECKPOINT, so each page it touches pays one full-page image (FPI), as the first write after any checkpoint does. Batch times are the intervals between the handler's progress reports (one per committed batch). Every run (retention alone and each API round) starts on a fresh file copy of the seeded database (CREATE DATABASE … TEMPLATE … STRATEGY FILE_COPY), so all start from the same pages; copies took ${input.copySeconds.map((seconds) => formatNumber(seconds)).join(', ')} s.`,
    `- API impact: apps/api/dist/main.js in a child process (NODE_ENV=production, DATABASE_POOL_MAX=${API_POOL_MAX}, rate limit off), anonymous X-Session-ID principals on the live anonymous sessions. Load: open loop at a fixed ${formatNumber(impact.ratePerSecond)} req/s, half messages.append (200–800 characters, with a clientMessageId) and half messages.history (last 50), latency timed from each request's due time. A fixed rate keeps the offered load equal in both windows and charges a stall to every request it delays; a closed loop would send less while the server is slow and hide exactly what is measured here. The default 80 req/s is about half of what the API benchmark measured the API to carry on this machine for either route alone (~150 req/s at saturation, with ~5 ms of CPU per request between the API and PostgreSQL), so the load leaves headroom and the windows show interference rather than saturation. Each round: ${formatNumber(impact.warmupMs / 1000)} s warmup, ${formatNumber(impact.withoutMs / 1000)} s without retention, then ${formatNumber(impact.warmupMs / 1000)} s warmup and a window measured from retention's start to its end. Retention is stopped through its abort signal after ${formatNumber(impact.duringMaxMs / 1000)} s if it has not finished, which ends the window: its heaviest phase (deleting sessions) comes first, so a capped window errs on the pessimistic side. On the current schema.`,
    `- Total benchmark time: ${formatNumber(input.minutes)} min.`,
    '',
    '## Goals',
    '',
    table(['Goal', 'Target', 'Measured', 'Result'], goals.map(goalRow)),
    '',
    '## Retention',
    '',
    `Schemas: "current schema" is the migrated one (${input.keysInSchema.length === 0 ? `without the per-row foreign keys ${PER_ROW_FOREIGN_KEYS.map((fk) => fk.name).join(' and ')}` : `with ${input.keysInSchema.join(' and ')}`}); the variant is the same copy with those foreign keys and the chat_messages_parent_id_index ${input.keysInSchema.length === 0 ? 're-added (the schema before Migration20261122015204_message_links_without_foreign_keys)' : 'dropped (as Migration20261122015204_message_links_without_foreign_keys does)'}, in the benchmark's copy only.`,
    '',
    table(['', ...runs.map(({ schema }) => schema)], retentionRows),
    '',
    `Where a batch's time goes: EXPLAIN (ANALYZE, BUFFERS, WAL) of the statement a session batch spends its time in, \`delete from chat_messages where session_id = any(…)\` for a batch's worth of expired sessions, rolled back, just before each run (right after the copy's checkpoint, as a first batch is). Trigger time is part of the execution time; buffers and WAL are the delete's own, not its triggers' updates.`,
    '',
    table(['', ...runs.map(({ schema }) => schema)], explainRows),
    '',
    '## Vacuum-analyze after the first retention run',
    '',
    `The vacuum-analyze job with its default payload (tables chosen from pg_stat_user_tables), ${formatNumber(vacuum.seconds)} s in all.`,
    '',
    table(['Table', 'Chosen because', 'Outcome', 'Dead tuples before', 'after', 'Seconds'], vacuumRows),
    '',
    `## API latency without and during retention (${rounds.length} round${rounds.length === 1 ? '' : 's'})`,
    '',
    'Latencies in ms as p50 / p99.',
    '',
    table(
      [
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
      ],
      impactRows,
    ),
    '',
    `Median of the per-round p99 ratios: append ${spread(ratios('append'))}, history ${spread(ratios('history'))}.${errorsSeen.length === 0 ? '' : ` First errors: ${[...new Set(errorsSeen)].slice(0, 3).join(' | ')}`}`,
    '',
    '## XP rollup',
    '',
    xp
      ? `${formatNumber(xp.learners)} learners, 4 missions, 4 badges. Each ledger starts from an empty rollup state; "from scratch" is the job with \`{"mode":"rebuild"}\`, then ${xp.large.incremental.length} rounds of: append ${formatNumber(xp.newRows)} rows dated today (random learners), run the job with \`{"mode":"incremental"}\`.`
      : 'Not measured: the worker does not register an xp-rollup job yet.',
    '',
    ...(xp
      ? [
          table(
            [
              'Ledger rows',
              'Seeded in s',
              'From scratch',
              'Incremental ms: median [range]',
              'Incremental ms, each round',
            ],
            xpRows,
          ),
        ]
      : []),
  ].join('\n');
}
