/**
 * Backup and restore time per million messages: `pnpm bench:backup [--quick] [--rounds N]`
 * (BENCH_DATABASE_URL to use a server of your own instead of the embedded PostgreSQL 18).
 *
 * Seeds the API benchmark's data set (1.2M interleaved messages; --quick: 60k), then for each
 * round: `db:backup`'s backupDatabase into a fresh folder, and restoreDatabase into a fresh empty
 * database. The baseline, measured in the same round, is bare COPY of the same tables to a
 * discarding stream through `pg` (what any logical dump must at least pay): the ratio shows what
 * gzip, hashing and the manifest add. Prints a markdown report; commit it under bench/results/.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { backupDatabase, restoreDatabase } from '@threadstore/db';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { openBenchDatabase } from '../api/database.ts';
import { FULL_DATASET, QUICK_DATASET } from '../api/dataset.ts';
import { describeMachine, formatNumber, median, spread, table } from '../api/report.ts';
import { seed } from '../api/seed.ts';

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, rounds: { type: 'string', default: '3' } },
  strict: true,
});
const rounds = Number(args.rounds);
const shape = args.quick ? QUICK_DATASET : FULL_DATASET;
const log = (line: string) => console.error(`[bench:backup] ${line}`);
const load = () => loadavg()[0]!.toFixed(2);

const machine = describeMachine();
const db = await openBenchDatabase(process.env.BENCH_DATABASE_URL, log, {
  database: 'threadstore_bench_backup',
  dataDirName: 'postgres',
});
const work = await mkdtemp(join(tmpdir(), 'threadstore-bench-backup-'));
try {
  const seeded = await seed(db.url, shape, log);
  log(`seeded ${seeded.messages} messages in ${formatNumber(seeded.seconds)} s`);
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  const tables = (
    await admin.query<{ name: string }>(
      `select relname as name from pg_class where relnamespace = 'public'::regnamespace and relkind = 'r'
          and relname <> 'mikro_orm_migrations'`,
    )
  ).rows.map((row) => row.name);
  const perMillion = (seconds: number) => (seconds * 1_000_000) / seeded.messages;

  const results: { baseline: number; backup: number; restore: number; bytes: number; load: string }[] = [];
  for (let round = 1; round <= rounds; round++) {
    const loadAtStart = load();
    let started = performance.now();
    await admin.query('begin isolation level repeatable read read only');
    for (const name of tables) {
      const discard = new Writable({ write: (_chunk, _encoding, callback) => callback() });
      await pipeline(admin.query(copyTo(`copy ${admin.escapeIdentifier(name)} to stdout`)), discard);
    }
    await admin.query('commit');
    const baseline = (performance.now() - started) / 1000;

    const dir = join(work, `round-${round}`);
    started = performance.now();
    const manifest = await backupDatabase({ url: db.url, dir });
    const backup = (performance.now() - started) / 1000;

    const target = `threadstore_bench_restore_${round}`;
    await admin.query(`drop database if exists ${target} with (force)`);
    await admin.query(`create database ${target}`);
    const targetUrl = new URL(db.url);
    targetUrl.pathname = `/${target}`;
    started = performance.now();
    await restoreDatabase({ url: targetUrl.toString(), dir });
    const restore = (performance.now() - started) / 1000;
    await admin.query(`drop database ${target} with (force)`);

    const bytes = manifest.tables.reduce((sum, t) => sum + t.bytes, 0);
    results.push({ baseline, backup, restore, bytes, load: `${loadAtStart} → ${load()}` });
    log(
      `round ${round}: baseline ${baseline.toFixed(1)} s, backup ${backup.toFixed(1)} s, restore ${restore.toFixed(1)} s`,
    );
    await rm(dir, { recursive: true, force: true });
  }
  await admin.end();

  const column = (key: 'baseline' | 'backup' | 'restore') => results.map((r) => perMillion(r[key]));
  console.log(`# Backup and restore, ${formatNumber(seeded.messages)} messages\n`);
  console.log(table(['', ''], Object.entries(machine)));
  console.log(
    `\nMedian [min–max] of ${rounds} rounds, seconds per million messages (the whole database: every table, ` +
      `${formatNumber(median(results.map((r) => r.bytes)) / 2 ** 20)} MiB of COPY text).\n`,
  );
  console.log(
    table(
      ['step', 's per 1M messages', 'ratio to baseline (median)'],
      [
        ['baseline: bare COPY of every table, discarded', spread(column('baseline')), '1'],
        [
          'pnpm db:backup (COPY + SHA-256 + gzip + manifest)',
          spread(column('backup')),
          formatNumber(median(column('backup')) / median(column('baseline'))),
        ],
        [
          'pnpm db:restore (migrations + COPY + checks)',
          spread(column('restore')),
          formatNumber(median(column('restore')) / median(column('baseline'))),
        ],
      ],
    ),
  );
  console.log(`\nLoad average (1 min) at the start → end of each round: ${results.map((r) => r.load).join('; ')}`);
} finally {
  await rm(work, { recursive: true, force: true });
  await db.stop();
}
