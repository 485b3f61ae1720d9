import type { MikroORM } from '@threadstore/db';
import type pg from 'pg';
import { percentile, runLoad, type Budget, type LoadResult } from '../api/load.ts';
import { machineCpuSeconds, treeCpuSeconds } from '../api/processes.ts';
import { median } from '../api/report.ts';
import { appendRequest, historyRequest } from '../api/workloads.ts';
import { apiShape, type MaintenanceShape } from './dataset.ts';
import { runJob, type TimedRun } from './jobs.ts';
import { numbers } from './seed.ts';
import type { JobContract } from '@threadstore/worker/jobs';

/**
 * The foreign keys to chat_messages whose ON DELETE SET NULL runs a trigger per deleted message
 * (an index probe of the referencing column, and an update where a row matches), as the initial
 * migration made them; Migration20261122015204_message_links_without_foreign_keys drops them and
 * the parent_id index.
 */
export const PER_ROW_FOREIGN_KEYS = [
  {
    name: 'chat_messages_parent_id_foreign',
    add: `alter table chat_messages add constraint chat_messages_parent_id_foreign foreign key (parent_id) references chat_messages (id) on delete set null`,
    drop: `alter table chat_messages drop constraint chat_messages_parent_id_foreign`,
  },
  {
    name: 'memories_source_message_id_foreign',
    add: `alter table memories add constraint memories_source_message_id_foreign foreign key (source_message_id) references chat_messages (id) on delete set null`,
    drop: `alter table memories drop constraint memories_source_message_id_foreign`,
  },
] as const;
const PARENT_INDEX = 'chat_messages_parent_id_index';

/** Which of {@link PER_ROW_FOREIGN_KEYS} the schema has. */
export async function perRowForeignKeys(client: pg.Client): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `select conname as name from pg_constraint where contype = 'f' and conname = any($1::text[]) order by 1`,
    [PER_ROW_FOREIGN_KEYS.map((fk) => fk.name)],
  );
  return rows.map((row) => row.name);
}

/**
 * In the benchmark's copy only, turns the schema into the other variant: drops the foreign keys
 * and the parent_id index as the migration does, or adds them back as they were before it.
 */
export async function togglePerRowForeignKeys(client: pg.Client, present: boolean): Promise<void> {
  if (present) {
    for (const fk of PER_ROW_FOREIGN_KEYS) await client.query(fk.drop);
    await client.query(`drop index if exists ${PARENT_INDEX}`);
  } else {
    await client.query(`create index if not exists ${PARENT_INDEX} on chat_messages (parent_id)`);
    for (const fk of PER_ROW_FOREIGN_KEYS) await client.query(fk.add);
    await client.query('analyze chat_messages');
  }
}

/**
 * Takes the picture a run is checked against, in temporary tables of `client`'s session: every
 * session with the number of messages written in it so far, and every memory.
 */
export async function recordBefore(client: pg.Client, startedAt: Date): Promise<void> {
  await client.query('drop table if exists pg_temp.before_sessions, pg_temp.before_memories');
  await client.query(
    `create temporary table before_sessions as
     select s.id, s.user_id is not null as of_user, s.anonymous_id is not null as anonymous,
            s.last_activity_at, s.deleted_at, coalesce(m.messages, 0) as messages
     from chat_sessions s
     left join (select session_id, count(*) as messages from chat_messages where created_at < $1 group by 1) m
       on m.session_id = s.id`,
    [startedAt],
  );
  await client.query('create temporary table before_memories as select id, kind, created_at from memories');
  await client.query('analyze before_sessions, before_memories');
}

/** What the run should have deleted, judged by the global policies at its own cutoff. */
export interface Expected {
  sessions: number;
  messages: number;
  memories: number;
}

/**
 * Compares what is left with the picture taken before, judging expiry with plain SQL apart from
 * the handler's (global policies; the data set has no overrides or holds) at the cutoff the run
 * used (its receipt says which `now()`), so rows that age past a limit while the benchmark runs
 * are judged as the handler judged them. Exactly the expired sessions, their messages and the
 * expired memories must be gone (unless the run was stopped early), the receipt must count what
 * went, and every kept session must still hold every message written in it before the run.
 * `exact` runs (no API load) also compare the table totals.
 */
async function checkPurge(
  client: pg.Client,
  startedAt: Date,
  details: Record<string, unknown>,
  { exact }: { exact: boolean },
): Promise<{ expected: Expected; problems: string[] }> {
  const keep = (target: string) =>
    `(select make_interval(days => keep_for_days) from retention_policies where scope = 'global' and target = '${target}')`;
  const { rows } = await client.query<Record<string, string>>(
    `with judged as (
       select b.*, present.id is not null as present,
              coalesce((b.of_user and b.last_activity_at < $1::timestamptz - ${keep('inactive_sessions')})
                or (b.anonymous and b.last_activity_at < $1::timestamptz - ${keep('anonymous_sessions')})
                or b.deleted_at < $1::timestamptz - ${keep('soft_deleted')}, false) as expired
       from before_sessions b left join chat_sessions present on present.id = b.id
     ),
     messages_now as (
       select j.expired, count(*) as messages
       from chat_messages m join judged j on j.id = m.session_id
       where m.created_at < $2
       group by 1
     ),
     memories_judged as (
       select present.id is not null as present,
              (b.kind = 'short_term' and b.created_at < $1::timestamptz - ${keep('short_term_memories')})
                or (b.kind = 'episodic' and b.created_at < $1::timestamptz - ${keep('episodic_memories')}) as expired
       from before_memories b left join memories present on present.id = b.id
     )
     select (select count(*) filter (where expired) from judged) as "expiredSessions",
            (select coalesce(sum(messages) filter (where expired), 0) from judged) as "expiredMessages",
            (select count(*) filter (where expired and present) from judged) as "expiredSessionsLeft",
            (select count(*) filter (where not expired and not present) from judged) as "keptSessionsMissing",
            (select coalesce(sum(messages) filter (where not expired), 0) from judged) as "keptMessagesBefore",
            (select coalesce(sum(messages), 0) from judged) as "messagesBefore",
            coalesce((select messages from messages_now where not expired), 0) as "keptMessagesNow",
            coalesce((select messages from messages_now where expired), 0) as "expiredMessagesLeft",
            (select count(*) from chat_messages) as "messagesNow",
            (select count(*) filter (where expired) from memories_judged) as "expiredMemories",
            (select count(*) filter (where expired and present) from memories_judged) as "expiredMemoriesLeft",
            (select count(*) filter (where not expired and not present) from memories_judged) as "keptMemoriesMissing",
            (select count(*) from memories_judged) as "memoriesBefore",
            (select count(*) from memories) as "memoriesNow"`,
    [(details as { cutoff?: unknown }).cutoff, startedAt],
  );
  const found = numbers(rows[0]!);
  const receipt = totals(details);
  const problems: string[] = [];
  const expect = (what: string, actual: number, wanted: number) => {
    if (actual !== wanted) problems.push(`${what}: ${actual}, expected ${wanted}`);
  };
  if ((details as unknown as Receipt).stoppedEarly !== true) {
    expect('expired sessions left', found.expiredSessionsLeft!, 0);
    expect('messages of expired sessions left', found.expiredMessagesLeft!, 0);
    expect('expired memories left', found.expiredMemoriesLeft!, 0);
  }
  expect('kept sessions missing', found.keptSessionsMissing!, 0);
  expect('kept memories missing', found.keptMemoriesMissing!, 0);
  expect('messages of kept sessions written before the run', found.keptMessagesNow!, found.keptMessagesBefore!);
  expect('sessions in the receipt', receipt.sessions, found.expiredSessions! - found.expiredSessionsLeft!);
  expect('messages in the receipt', receipt.messages, found.expiredMessages! - found.expiredMessagesLeft!);
  expect('memories in the receipt', receipt.memories, found.expiredMemories! - found.expiredMemoriesLeft!);
  if (exact) {
    expect('messages in the table', found.messagesNow!, found.messagesBefore! - receipt.messages);
    expect('memories in the table', found.memoriesNow!, found.memoriesBefore! - receipt.memories);
  }
  return {
    expected: { sessions: found.expiredSessions!, messages: found.expiredMessages!, memories: found.expiredMemories! },
    problems,
  };
}

export interface RetentionRun {
  seconds: number;
  sessionsDeleted: number;
  messagesDeleted: number;
  memoriesDeleted: number;
  lockConflicts: number;
  /** Set when the run was stopped through its abort signal before it finished. */
  stoppedEarly: boolean;
  wal: WalWritten;
  /** WAL bytes written during each phase of the handler. */
  phaseWalBytes: Record<string, number>;
  /** Checkpoints the server made during the run: after each, a page's next change is logged in full again. */
  checkpoints: number;
  /** Wall time per committed batch (time between consecutive progress reports), ms. */
  batchMs: number[];
  /** Messages deleted per batch of the sessions phase. */
  batchMessages: number[];
  /** Wall time per phase of the handler (sessions, soft-deleted messages, memories), s. */
  phaseSeconds: Record<string, number>;
  /** What the run should have deleted, all of it unless it was stopped early. */
  expected: Expected;
  /** Empty when exactly the expired rows went and everything else stayed. */
  problems: string[];
  /** References left pointing at deleted messages (possible once the foreign keys are gone). */
  dangling: { memories: number; parents: number };
  /** Share of the machine's CPU in use during the run, and used by processes outside the benchmark, %. */
  busyPercent: number;
  otherCpuPercent: number;
}

interface Receipt {
  lockConflicts: number;
  stoppedEarly: boolean;
  targets: Record<string, { sessions: number; messages: number; memories: number }>;
}

const totals = (details: Record<string, unknown>) => {
  const receipt = details as unknown as Receipt;
  const sum = (key: 'sessions' | 'messages' | 'memories') =>
    Object.values(receipt.targets ?? {}).reduce((total, target) => total + target[key], 0);
  return { sessions: sum('sessions'), messages: sum('messages'), memories: sum('memories') };
};

/**
 * One retention run of the real handler with the default payload, measured from a clean start:
 * a CHECKPOINT first, so every page the run touches pays its full-page image in the WAL, as the
 * first write after a checkpoint does in production. The data is recorded before, and checked
 * after: exactly the expired rows went.
 */
export async function measureRetention(
  job: JobContract,
  orm: MikroORM,
  client: pg.Client,
  postmasterPid: number | null,
): Promise<RetentionRun> {
  const startedAt = new Date();
  await recordBefore(client, startedAt);
  await client.query('checkpoint');
  const checkpoints0 = await checkpointCount(client);
  const stats0 = await walStats(client);
  const wal0 = await walPosition(client);
  // The position after each batch, to split the WAL by phase; one quick query per batch.
  const phaseEnds = new Map<string, string>();
  const cpu0 = cpuSnapshot(postmasterPid);
  const run = await runJob(
    job,
    orm,
    {},
    {
      onProgress: async (details) => {
        phaseEnds.set(String(details.phase), await walPosition(client));
      },
    },
  );
  const cpu1 = cpuSnapshot(postmasterPid);
  const wal1 = await walPosition(client);
  const stats1 = await walStats(client);
  const checkpoints = (await checkpointCount(client)) - checkpoints0;
  const phaseWalBytes: Record<string, number> = {};
  let phaseStart = wal0;
  for (const [phase, end] of phaseEnds) {
    phaseWalBytes[phase] = await walBetween(client, phaseStart, end);
    phaseStart = end;
  }
  return {
    ...summarize(run),
    wal: {
      ...(await walWritten(client, wal0, wal1)),
      fullPageImages: stats1.fpi - stats0.fpi,
      records: stats1.records - stats0.records,
    },
    phaseWalBytes,
    checkpoints,
    ...(await checkPurge(client, startedAt, run.result.details, { exact: true })),
    dangling: await danglingReferences(client),
    ...cpuShares(cpu0, cpu1),
  };
}

function summarize(run: TimedRun) {
  const deleted = totals(run.result.details);
  const batchMs: number[] = [];
  const batchMessages: number[] = [];
  const phaseSeconds: Record<string, number> = {};
  let previousMs = 0;
  let previousMessages = 0;
  for (const { atMs, details } of run.progress) {
    const phase = String(details.phase);
    const { messages } = totals(details);
    batchMs.push(atMs - previousMs);
    if (phase === 'sessions') batchMessages.push(messages - previousMessages);
    phaseSeconds[phase] = (phaseSeconds[phase] ?? 0) + (atMs - previousMs) / 1000;
    previousMs = atMs;
    previousMessages = messages;
  }
  phaseSeconds.finishing = run.seconds - previousMs / 1000;
  return {
    seconds: run.seconds,
    sessionsDeleted: deleted.sessions,
    messagesDeleted: deleted.messages,
    memoriesDeleted: deleted.memories,
    lockConflicts: Number((run.result.details as unknown as Receipt).lockConflicts ?? 0),
    stoppedEarly: (run.result.details as unknown as Receipt).stoppedEarly === true,
    batchMs,
    batchMessages,
    phaseSeconds,
  };
}

async function danglingReferences(client: pg.Client): Promise<{ memories: number; parents: number }> {
  const { rows } = await client.query<{ memories: string; parents: string }>(
    `select (select count(*) from memories m where m.source_message_id is not null
               and not exists (select 1 from chat_messages c where c.id = m.source_message_id)) as memories,
            (select count(*) from chat_messages m where m.parent_id is not null
               and not exists (select 1 from chat_messages p where p.id = m.parent_id)) as parents`,
  );
  return { memories: Number(rows[0]!.memories), parents: Number(rows[0]!.parents) };
}

/** Checkpoints started so far (pg_stat_checkpointer from PostgreSQL 17, pg_stat_bgwriter before). */
async function checkpointCount(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ count: string }>(
    (await client.query(`select to_regclass('pg_catalog.pg_stat_checkpointer') as view`)).rows[0]!.view
      ? 'select num_timed + num_requested as count from pg_stat_checkpointer'
      : 'select checkpoints_timed + checkpoints_req as count from pg_stat_bgwriter',
  );
  return Number(rows[0]!.count);
}

/** pg_stat_wal's counters (PostgreSQL 14 and later). */
async function walStats(client: pg.Client): Promise<{ fpi: number; records: number }> {
  const { rows } = await client.query<{ fpi: string; records: string }>(
    'select wal_fpi as fpi, wal_records as records from pg_stat_wal',
  );
  return { fpi: Number(rows[0]!.fpi), records: Number(rows[0]!.records) };
}

async function walPosition(client: pg.Client): Promise<string> {
  return (await client.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn')).rows[0]!.lsn;
}

export interface WalWritten {
  bytes: number;
  /** Full-page images and WAL records written meanwhile, server-wide (pg_stat_wal). */
  fullPageImages?: number;
  records?: number;
  /** Of `bytes`, full-page images; null where pg_walinspect cannot be used. */
  fullPageImageBytes: number | null;
  /** The largest resource managers (Heap, Btree, …) by bytes written. */
  largest: { kind: string; bytes: number }[];
}

/**
 * The WAL between two positions, split by pg_walinspect (contrib, superuser) into what wrote it.
 * The range covers the whole server, so it includes autovacuum's writes if it ran meanwhile.
 */
async function walBetween(client: pg.Client, from: string, to: string): Promise<number> {
  return Number(
    (await client.query<{ bytes: string }>('select pg_wal_lsn_diff($2, $1) as bytes', [from, to])).rows[0]!.bytes,
  );
}

async function walWritten(client: pg.Client, from: string, to: string): Promise<WalWritten> {
  const bytes = await walBetween(client, from, to);
  try {
    await client.query('create extension if not exists pg_walinspect with schema bench_plan');
    const { rows } = await client.query<{ kind: string; bytes: string; fpi: string }>(
      `select "resource_manager/record_type" as kind, combined_size as bytes, fpi_size as fpi
       from bench_plan.pg_get_wal_stats($1, $2) where count > 0 order by combined_size desc`,
      [from, to],
    );
    return {
      bytes,
      fullPageImageBytes: rows.reduce((total, row) => total + Number(row.fpi), 0),
      largest: rows.slice(0, 4).map((row) => ({ kind: row.kind, bytes: Number(row.bytes) })),
    };
  } catch (error) {
    return { bytes, fullPageImageBytes: null, largest: [{ kind: `(no breakdown: ${String(error)})`, bytes }] };
  }
}

export interface DeleteExplained {
  sessions: number;
  messages: number;
  executionMs: number;
  triggers: { name: string; relation: string; calls: number; ms: number }[];
  /** Buffers of the delete itself (not its triggers' queries): found in shared buffers, read in, dirtied, written out. */
  buffers: { hit: number; read: number; dirtied: number; written: number };
  /** Time spent reading and writing blocks (track_io_timing), ms; null where it cannot be turned on. */
  ioMs: number | null;
  /** WAL of the delete itself (not its triggers' updates). */
  wal: { records: number; fullPageImages: number; bytes: number };
}

/**
 * EXPLAIN (ANALYZE, BUFFERS, WAL) of the statement a retention batch spends its time in
 * (deleting the messages of a batch's worth of expired sessions), rolled back. PostgreSQL reports
 * the time each trigger took apart from the delete itself, which attributes the cost to each
 * foreign key, and the pages and WAL the statement cost, which attributes the rest.
 */
export async function explainMessageDelete(client: pg.Client, batchSize: number): Promise<DeleteExplained> {
  const { rows } = await client.query<{ ids: string[]; messages: string }>(
    `select array_agg(id) as ids, max(running) as messages from (
       select id, sum(last_seq) over (order by id) as running from chat_sessions
       where user_id is not null and last_activity_at < now() - interval '90 days' and last_seq <= $1
     ) batch where running <= $1`,
    [batchSize],
  );
  const ids = rows[0]!.ids;
  await client.query('begin');
  try {
    // A superuser setting; where it is refused, the I/O time is simply not reported.
    let ioTiming = true;
    try {
      await client.query('set local track_io_timing = on');
    } catch {
      ioTiming = false;
      await client.query('rollback');
      await client.query('begin');
    }
    const plan = await client.query<{ 'QUERY PLAN': ExplainJson[] }>(
      'explain (analyze, buffers, wal, format json) delete from chat_messages where session_id = any($1::uuid[])',
      [ids],
    );
    const explained = plan.rows[0]!['QUERY PLAN'][0]!;
    const top = explained.Plan;
    const ioMs =
      (top['Shared I/O Read Time'] ?? top['I/O Read Time'] ?? 0) +
      (top['Shared I/O Write Time'] ?? top['I/O Write Time'] ?? 0);
    return {
      sessions: ids.length,
      messages: Number(rows[0]!.messages),
      executionMs: explained['Execution Time'],
      triggers: (explained.Triggers ?? []).map((trigger) => ({
        name: trigger['Constraint Name'] ?? trigger['Trigger Name'],
        relation: trigger.Relation,
        calls: trigger.Calls,
        ms: trigger.Time,
      })),
      buffers: {
        hit: top['Shared Hit Blocks'],
        read: top['Shared Read Blocks'],
        dirtied: top['Shared Dirtied Blocks'],
        written: top['Shared Written Blocks'],
      },
      ioMs: ioTiming ? ioMs : null,
      wal: { records: top['WAL Records'], fullPageImages: top['WAL FPI'], bytes: top['WAL Bytes'] },
    };
  } finally {
    await client.query('rollback');
  }
}

interface ExplainJson {
  'Execution Time': number;
  Plan: {
    'Shared Hit Blocks': number;
    'Shared Read Blocks': number;
    'Shared Dirtied Blocks': number;
    'Shared Written Blocks': number;
    /** PostgreSQL 17 and later. */
    'Shared I/O Read Time'?: number;
    'Shared I/O Write Time'?: number;
    /** PostgreSQL 15 and 16. */
    'I/O Read Time'?: number;
    'I/O Write Time'?: number;
    'WAL Records': number;
    'WAL FPI': number;
    'WAL Bytes': number;
  };
  Triggers?: { 'Trigger Name': string; 'Constraint Name'?: string; Relation: string; Time: number; Calls: number }[];
}

export interface LatencySummary {
  requests: number;
  errors: number;
  p50: number;
  p99: number;
  firstError: string | null;
}

export interface LoadWindow {
  append: LatencySummary;
  history: LatencySummary;
  seconds: number;
  busyPercent: number;
  otherCpuPercent: number;
}

export interface ImpactRound {
  without: LoadWindow;
  during: LoadWindow;
  retention: Pick<
    RetentionRun,
    'seconds' | 'sessionsDeleted' | 'messagesDeleted' | 'lockConflicts' | 'stoppedEarly' | 'problems'
  >;
}

export interface ImpactSettings {
  /** Requests per second, half appends and half last-50 history reads. */
  ratePerSecond: number;
  warmupMs: number;
  /** How long the window without retention measures. */
  withoutMs: number;
  /**
   * Retention is stopped (through its abort signal, between batches, as pg-boss stops an expired
   * job) after this long, which ends the window during it; its heaviest phase comes first.
   */
  duringMaxMs: number;
}

/**
 * One round of the API's latency without and then during retention, at the same fixed request
 * rate. The "during" window starts measuring when retention starts and stops when it ends (or is
 * stopped at `duringMaxMs`).
 */
export async function impactRound(
  job: JobContract,
  orm: MikroORM,
  client: pg.Client,
  api: { port: number; pid: number },
  shape: MaintenanceShape,
  corpus: string,
  settings: ImpactSettings,
  postmasterPid: number | null,
): Promise<ImpactRound> {
  const startedAt = new Date();
  await recordBefore(client, startedAt);
  const load = (measure: Budget, onMeasureStart?: () => void) =>
    mixedLoad(api, shape, corpus, settings, measure, postmasterPid, onMeasureStart);

  const without = await load({ ms: settings.withoutMs });
  const retentionEnded = new AbortController();
  const cap = new AbortController();
  let retention: Promise<TimedRun> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const during = await load({ until: retentionEnded.signal }, () => {
    timer = setTimeout(() => cap.abort(), settings.duringMaxMs);
    retention = runJob(job, orm, {}, { signal: cap.signal }).finally(() => retentionEnded.abort());
  });
  const run = await retention!;
  clearTimeout(timer);
  const { problems } = await checkPurge(client, startedAt, run.result.details, { exact: false });
  return { without, during, retention: { ...summarize(run), problems } };
}

/**
 * Appends and last-50 history reads, each at half the rate, open loop: requests go out on
 * schedule whatever the server does and are timed from when they were due, so a stall caused by
 * retention shows in full in the tail instead of slowing the senders down (coordinated omission).
 * Both streams warm up, then measure together.
 */
async function mixedLoad(
  api: { port: number; pid: number },
  shape: MaintenanceShape,
  corpus: string,
  settings: ImpactSettings,
  measure: Budget,
  postmasterPid: number | null,
  onMeasureStart?: () => void,
): Promise<LoadWindow> {
  const live = apiShape(shape);
  let waiting = 2;
  let release!: () => void;
  const allWarm = new Promise<void>((resolve) => (release = resolve));
  let cpu0 = cpuSnapshot(postmasterPid, api.pid);
  let started = 0;
  const afterWarmup = async () => {
    waiting -= 1;
    if (waiting === 0) {
      cpu0 = cpuSnapshot(postmasterPid, api.pid);
      started = performance.now();
      onMeasureStart?.();
      release();
    }
    await allWarm;
  };
  const common = {
    port: api.port,
    concurrency: 256,
    ratePerSecond: settings.ratePerSecond / 2,
    warmup: { ms: settings.warmupMs },
    measure,
    afterWarmup,
  };
  const [append, history] = await Promise.all([
    runLoad({ ...common, next: () => appendRequest(live, corpus) }),
    runLoad({
      ...common,
      next: () => historyRequest(Math.floor(Math.random() * live.sessions), { limit: 50 }),
    }),
  ]);
  const seconds = (performance.now() - started) / 1000;
  return {
    append: latencies(append),
    history: latencies(history),
    seconds,
    ...cpuShares(cpu0, cpuSnapshot(postmasterPid, api.pid)),
  };
}

function latencies(result: LoadResult): LatencySummary {
  return {
    requests: result.requests,
    errors: result.non2xx + result.socketErrors,
    p50: percentile(result.latenciesMs, 0.5),
    p99: percentile(result.latenciesMs, 0.99),
    firstError: result.firstError,
  };
}

interface CpuSnapshot {
  ours: number;
  machine: { busy: number; total: number };
}

/** CPU seconds of this process, PostgreSQL's processes and the API's, and of the whole machine. */
function cpuSnapshot(postmasterPid: number | null, apiPid?: number): CpuSnapshot {
  const { user, system } = process.cpuUsage();
  const ours =
    (user + system) / 1e6 +
    (postmasterPid === null ? 0 : treeCpuSeconds(postmasterPid)) +
    (apiPid === undefined ? 0 : treeCpuSeconds(apiPid));
  return { ours, machine: machineCpuSeconds() };
}

/** Of the machine's CPU time between two snapshots: what it used in all, and what others used, in %. */
function cpuShares(start: CpuSnapshot, end: CpuSnapshot): { busyPercent: number; otherCpuPercent: number } {
  const busy = end.machine.busy - start.machine.busy;
  const total = end.machine.total - start.machine.total;
  if (total <= 0) return { busyPercent: Number.NaN, otherCpuPercent: Number.NaN };
  return {
    busyPercent: (busy / total) * 100,
    otherCpuPercent: Math.max(0, ((busy - (end.ours - start.ours)) / total) * 100),
  };
}

/** Median of a run's batch times and its slowest, for the report. */
export function batchFigures(run: Pick<RetentionRun, 'batchMs' | 'batchMessages'>) {
  const sorted = Float64Array.from(run.batchMs).sort();
  return {
    count: run.batchMs.length,
    medianMs: median(run.batchMs),
    p90Ms: percentile(sorted, 0.9),
    maxMs: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
    medianMessages: run.batchMessages.length === 0 ? 0 : median(run.batchMessages),
  };
}
