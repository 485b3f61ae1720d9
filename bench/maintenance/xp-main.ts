/**
 * The XP rollup's incremental fold (issue 8, goal 8: 1,000 new rows on a 1M-row ledger in ≤ 100 ms),
 * the current fold beside the fold as it was before (xp-baseline-fold.ts), in the same run.
 *
 *   pnpm bench:xp            1M-row ledger, 7 rounds; writes bench/results/xp-<date>.md
 *   pnpm bench:xp --quick    100k-row ledger, 3 rounds; writes nothing unless --out
 *   options: --rounds N, --rows N, --new-rows N, --learners N, --out FILE;
 *   DATABASE_URL=… uses that server instead of an embedded PostgreSQL 18
 *
 * The ledger is seeded once (as bench:maintenance seeds it: 10,000 learners, 4 missions, 4
 * badges, rows over the last 90 days) and rebuilt by the current code, then copied: each fold runs
 * on its own copy, so each only ever sees the state it wrote itself (the baseline does not know the
 * rewards the current fold marks as folded), and the baseline's copy lacks the index the current
 * fold added (academy_user_missions_completed_index), so it runs as before. A round appends the same number of fresh rows (dated
 * within the last hour, random learners) to each copy and runs each fold once, the order
 * alternating between rounds. A run is the whole job handler's work: every batch until caught up,
 * the ended-mission sweep and the final count. Afterwards both copies' totals and weekly XP are
 * checked against the ledger.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { parseArgs } from 'node:util';
import { connectionSettingsFromUrl, createOrm, type MikroORM } from '@threadstore/db';
import { rollUpXp, type RollupReport } from '@threadstore/domain';
import pg from 'pg';
import { openBenchDatabase } from '../api/database.ts';
import { describeMachine, formatNumber, goalRow, median, spread, table } from '../api/report.ts';
import { jobNamed } from './jobs.ts';
import { appendLedger, seedAcademy } from './seed.ts';
import { rollUpXpBaseline } from './xp-baseline-fold.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    rows: { type: 'string' },
    'new-rows': { type: 'string' },
    learners: { type: 'string' },
    out: { type: 'string' },
  },
});
const rounds = Number(args.rounds ?? (args.quick ? 3 : 7));
const ledgerRows = Number(args.rows ?? (args.quick ? 100_000 : 1_000_000));
const newRows = Number(args['new-rows'] ?? 1_000);
const learners = Number(args.learners ?? 10_000);
const log = (line: string) => process.stderr.write(`${line}\n`);
const load1 = () => loadavg()[0]!;

type Variant = 'current' | 'baseline';
interface Run {
  variant: Variant;
  round: number;
  ms: number;
  load: number;
  /** CPU time of the database's backends during the run (null when the server is not on this machine). */
  postgresCpuMs: number | null;
  report: RollupReport;
}

const DATABASE = process.env.BENCH_DATABASE ?? 'threadstore_bench_xp';
const BASELINE_DATABASE = `${DATABASE}_baseline`;

const job = jobNamed('xp-rollup');
if (!job) throw new Error('the worker registers no xp-rollup job');
const machine = describeMachine();
const db = await openBenchDatabase(process.env.DATABASE_URL, log, { database: DATABASE, dataDirName: 'postgres-xp' });
const orms: MikroORM[] = [];
try {
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  const [{ version }] = (await admin.query<{ version: string }>(`select version()`)).rows as [{ version: string }];

  log(`seeding ${formatNumber(learners)} learners and a ${formatNumber(ledgerRows)}-row ledger…`);
  await seedAcademy(db.url, learners);
  const seedSeconds = await appendLedger(db.url, { rows: ledgerRows, learners, recent: false, tag: 'ledger' });
  const payload = (mode: string) => job.payload.parse({ mode }) as Parameters<typeof rollUpXp>[1];
  {
    const orm = await workerOrm(db.url);
    const started = performance.now();
    await rollUpXp(orm.em.fork(), {
      ...payload('rebuild'),
      signal: new AbortController().signal,
      onBatch: async () => {},
    });
    log(`rebuilt from scratch in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    await orm.close();
  }
  await admin.query('vacuum (analyze)');
  await admin.query('checkpoint');
  await admin.end();
  const baselineUrl = await copyDatabase(db.url, DATABASE, BASELINE_DATABASE);
  const urls: Record<Variant, string> = { current: db.url, baseline: baselineUrl };
  const ormOf: Record<Variant, MikroORM> = {
    current: await workerOrm(urls.current),
    baseline: await workerOrm(urls.baseline),
  };

  const fold = async (variant: Variant, round: number): Promise<Run> => {
    await appendLedger(urls[variant], { rows: newRows, learners, recent: true, tag: `${variant}-${round}` });
    const options = {
      ...payload('incremental'),
      signal: new AbortController().signal,
      onBatch: async () => {},
    };
    const em = ormOf[variant].em.fork();
    const database = new URL(urls[variant]).pathname.slice(1);
    const cpuBefore = await backendCpuNs(database);
    const started = performance.now();
    const report = variant === 'current' ? await rollUpXp(em, options) : await rollUpXpBaseline(em, options);
    const ms = performance.now() - started;
    const cpuAfter = await backendCpuNs(database);
    let cpuNs: number | null = 0;
    for (const [pid, after] of cpuAfter)
      cpuNs = after === null || cpuNs === null ? null : cpuNs + after - (cpuBefore.get(pid) ?? 0);
    return { variant, round, ms, load: load1(), report, postgresCpuMs: cpuNs === null ? null : cpuNs / 1e6 };
  };
  const monitor = new pg.Client({ connectionString: db.url });
  await monitor.connect();
  /**
   * CPU time so far of each backend connected to `database` (/proc/<pid>/schedstat, ns): less
   * sensitive to the machine's load than wall time, as the machine is shared.
   */
  const backendCpuNs = async (database: string): Promise<Map<number, number | null>> => {
    const { rows } = await monitor.query<{ pid: number }>(
      `select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`,
      [database],
    );
    const cpu = new Map<number, number | null>();
    for (const { pid } of rows) {
      try {
        cpu.set(pid, Number((await readFile(`/proc/${pid}/schedstat`, 'utf8')).split(' ')[0]));
      } catch {
        cpu.set(pid, null);
      }
    }
    return cpu;
  };

  // One unmeasured round each: the first run after the copy reads cold pages.
  await fold('current', 0);
  await fold('baseline', 0);
  const runs: Run[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    const order: Variant[] = round % 2 === 1 ? ['baseline', 'current'] : ['current', 'baseline'];
    for (const variant of order) {
      const run = await fold(variant, round);
      runs.push(run);
      log(
        `round ${round} ${variant}: ${run.ms.toFixed(1)} ms, ${run.report.batches} batch(es), ${run.report.ledgerRows} rows, load ${run.load.toFixed(2)}`,
      );
    }
  }
  const checks: Record<Variant, Check> = {
    current: await checkAgainstLedger(urls.current),
    baseline: await checkAgainstLedger(urls.baseline),
  };
  for (const orm of Object.values(ormOf)) await orm.close();
  await monitor.end();

  const markdown = render({ machine, version, seedSeconds, runs, checks });
  process.stdout.write(`${markdown}\n`);
  const out =
    args.out ?? (args.quick ? undefined : join('bench', 'results', `xp-${new Date().toISOString().slice(0, 10)}.md`));
  if (out) {
    const path = isAbsolute(out) ? out : join(import.meta.dirname, '..', '..', out);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, `${markdown}\n`);
    log(`wrote ${out}`);
  }
} finally {
  for (const orm of orms) await orm.close().catch(() => {});
  await db.stop();
}

/** An ORM configured as the worker's (its pool and statement timeout come from the settings). */
async function workerOrm(url: string): Promise<MikroORM> {
  const orm = await createOrm({ connection: connectionSettingsFromUrl(url, 'threadstore-bench-xp') });
  orms.push(orm);
  return orm;
}

async function copyDatabase(url: string, source: string, target: string): Promise<string> {
  const adminUrl = new URL(url);
  adminUrl.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${target} with (force)`);
    await admin.query(`create database ${target} template ${source}`);
  } finally {
    await admin.end();
  }
  const copy = new URL(url);
  copy.pathname = `/${target}`;
  const client = new pg.Client({ connectionString: copy.toString() });
  await client.connect();
  // The baseline runs on the schema as it was too: without the index the current fold added.
  await client.query('drop index if exists academy_user_missions_completed_index');
  await client.query('vacuum (analyze)');
  await client.end();
  return copy.toString();
}

interface Check {
  learners: number;
  wrongTotals: number;
  wrongWeeks: number;
  unfoldedRows: number;
}

/** Every learner's totals and level, and every weekly row, against a sum over the whole ledger. */
async function checkAgainstLedger(url: string): Promise<Check> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<Check>(
      `with sums as (
         select user_id, coalesce(sum(amount) filter (where amount > 0), 0) as earned,
                coalesce(-sum(amount) filter (where amount < 0), 0) as corrected
           from academy_xp_transactions group by user_id
       ),
       weeks as (
         select date_trunc('week', created_at at time zone 'UTC')::date as week, user_id, sum(amount) as xp
           from academy_xp_transactions group by 1, 2
       )
       select (select count(*)::int from academy_users) as learners,
              (select count(*)::int from sums s full join academy_users u using (user_id)
                where (u.earned_xp, u.corrected_xp, u.total_xp, u.level)
                      is distinct from (s.earned, s.corrected, greatest(s.earned - s.corrected, 0),
                                        greatest(1, floor((5 + sqrt(25 + 2 * greatest(s.earned - s.corrected, 0)::float8)) / 10))::int)
              ) as "wrongTotals",
              (select count(*)::int from weeks x full join academy_weekly_xp w using (week, user_id)
                where w.xp is distinct from x.xp) as "wrongWeeks",
              (select count(*)::int from academy_xp_transactions t, academy_xp_rollup_state s
                where (t.tx_id, t.id) > (s.folded_tx_id, s.folded_id) and not t.folded_on_insert) as "unfoldedRows"`,
    );
    return rows[0]!;
  } finally {
    await client.end();
  }
}

function render(input: {
  machine: Record<string, string>;
  version: string;
  seedSeconds: number;
  runs: Run[];
  checks: Record<Variant, Check>;
}): string {
  const { machine, version, seedSeconds, runs, checks } = input;
  const of = (variant: Variant) => runs.filter((run) => run.variant === variant);
  const ms = (variant: Variant) => of(variant).map((run) => run.ms);
  const cpu = (variant: Variant) =>
    of(variant)
      .map((run) => run.postgresCpuMs)
      .filter((value): value is number => value !== null);
  const loads = (variant: Variant) => of(variant).map((run) => run.load);
  const current = median(ms('current'));
  const baseline = median(ms('baseline'));
  const perRound = [...new Set(runs.map((run) => run.round))].map((round) => {
    const pick = (variant: Variant) => runs.find((run) => run.round === round && run.variant === variant)!;
    const [b, c] = [pick('baseline'), pick('current')];
    return [
      String(round),
      `${formatNumber(b.ms)} ms, CPU ${formatNumber(b.postgresCpuMs ?? Number.NaN)} ms (${b.report.batches} batches, load ${b.load.toFixed(2)})`,
      `${formatNumber(c.ms)} ms, CPU ${formatNumber(c.postgresCpuMs ?? Number.NaN)} ms (${c.report.batches} batch, load ${c.load.toFixed(2)})`,
      formatNumber(c.ms / b.ms),
    ];
  });
  const sumOf = (variant: Variant, field: 'ledgerRows' | 'rewardsPaid' | 'missionsCompleted' | 'badgesAwarded') =>
    of(variant).reduce((sum, run) => sum + run.report[field], 0);
  return [
    `# XP rollup, incremental fold (${new Date().toISOString().slice(0, 10)})`,
    '',
    `Command: \`pnpm bench:xp${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}\``,
    '',
    ...Object.entries(machine).map(([key, value]) => `- ${key}: ${value}`),
    `- PostgreSQL: ${version}${process.env.DATABASE_URL ? '' : ' (embedded, shared_buffers=1GB, max_wal_size=4GB)'}`,
    `- Ledger: ${formatNumber(ledgerRows)} rows over the last 90 days for ${formatNumber(learners)} learners (seeded in ${seedSeconds.toFixed(1)} s), rebuilt, then copied: each fold runs on its own copy (the baseline's without the index the current fold added). 4 missions, 4 badges. Each round appends ${formatNumber(newRows)} rows (dated within the hour, random learners) to each copy and runs each fold once (the job handler's whole work: every batch, the ended-mission sweep, the final count), alternating which goes first; one unmeasured round each before.`,
    `- Load average (1 min) beside each figure; the machine's 2 cores are shared with other engineers' work.`,
    '',
    table(
      ['Goal', 'Target', 'Measured', 'Verdict'],
      [
        goalRow({
          name: `incremental fold of ${formatNumber(newRows)} rows on the ${formatNumber(ledgerRows)}-row ledger (median of ${rounds})`,
          measured: current,
          target: 100,
          kind: 'atMost',
          unit: ' ms',
        }),
      ],
    ),
    '',
    table(
      ['', 'Baseline (fold before 2026-12-07)', 'Current', 'Current ÷ baseline'],
      [
        ['ms per run: median [range]', spread(ms('baseline')), spread(ms('current')), formatNumber(current / baseline)],
        [
          'PostgreSQL CPU ms per run (its backends): median [range]',
          spread(cpu('baseline')),
          spread(cpu('current')),
          formatNumber(median(cpu('current')) / median(cpu('baseline'))),
        ],
        ['load (1 min) during the runs: median [range]', spread(loads('baseline')), spread(loads('current')), ''],
        [
          'batches per run: median',
          formatNumber(median(of('baseline').map((r) => r.report.batches))),
          formatNumber(median(of('current').map((r) => r.report.batches))),
          '',
        ],
        [
          'ledger rows folded / missions completed / rewards paid / badges, all rounds',
          `${formatNumber(sumOf('baseline', 'ledgerRows'))} / ${formatNumber(sumOf('baseline', 'missionsCompleted'))} / ${formatNumber(sumOf('baseline', 'rewardsPaid'))} / ${formatNumber(sumOf('baseline', 'badgesAwarded'))}`,
          `${formatNumber(sumOf('current', 'ledgerRows'))} / ${formatNumber(sumOf('current', 'missionsCompleted'))} / ${formatNumber(sumOf('current', 'rewardsPaid'))} / ${formatNumber(sumOf('current', 'badgesAwarded'))}`,
          '',
        ],
        [
          'after all rounds: learners / wrong totals / wrong weekly rows / unfolded rows',
          `${formatNumber(checks.baseline.learners)} / ${checks.baseline.wrongTotals} / ${checks.baseline.wrongWeeks} / ${checks.baseline.unfoldedRows}`,
          `${formatNumber(checks.current.learners)} / ${checks.current.wrongTotals} / ${checks.current.wrongWeeks} / ${checks.current.unfoldedRows}`,
          '',
        ],
      ],
    ),
    '',
    '(The baseline\'s "ledger rows folded" include the reward rows it folds in its second batch; the current fold folds them in the batch that pays them and does not count them as ledger rows.)',
    '',
    table(['Round', 'Baseline', 'Current', 'Current ÷ baseline'], perRound),
  ].join('\n');
}
