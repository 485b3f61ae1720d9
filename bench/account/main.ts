/**
 * Account export and erasure, against bare baselines measured in the same run.
 *
 *   export:  exportAccount of a 100k-message account (messages/s), beside the same rows read as
 *            JSON through a bare `pg` cursor (the floor: what PostgreSQL and the driver cost).
 *   erasure: eraseAccount of a 100k-message account (seconds), while other users' history
 *            requests arrive at a fixed rate (open loop); their p99 during the erasure beside
 *            their p99 in a window just before it.
 *
 * Three rounds; the account is seeded again for each. DATABASE_URL selects a server (the
 * benchmark creates its own database there), else an embedded PostgreSQL under bench/.data.
 * BENCH_OUT names the report file (default bench/results/account-<date>.md).
 */
import { loadavg } from 'node:os';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connectionSettingsFromUrl, createOrm, type MikroORM } from '@threadstore/db';
import { eraseAccount, exportAccount } from '@threadstore/domain';
import pg from 'pg';
import { openBenchDatabase } from '../api/database.ts';
import { QUICK_DATASET } from '../api/dataset.ts';
import { percentile, runLoad } from '../api/load.ts';
import { startApi } from '../api/processes.ts';
import { median, spread, table } from '../api/report.ts';
import { seed } from '../api/seed.ts';
import { historyRequest } from '../api/workloads.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MESSAGES = Number(process.env.BENCH_ACCOUNT_MESSAGES ?? 100_000);
const SESSIONS = 100;
/** Other users' traffic during the erasure: a fixed rate well under this machine's capacity. */
const RATE = Number(process.env.BENCH_RATE ?? 50);
const BEFORE_MS = 8_000;

const lines: string[] = [];
const log = (line: string) => {
  console.log(line);
  lines.push(line);
};
const load = () => loadavg()[0]!.toFixed(2);

/** A user with MESSAGES messages over SESSIONS sessions, set-based. */
async function seedAccount(client: pg.Client, round: number): Promise<string> {
  const { rows } = await client.query<{ id: string }>(
    `insert into users (issuer, subject, email) values ('bench', $1::text, $1::text || '@bench.test') returning id`,
    [`account-${round}-${Date.now()}`],
  );
  const userId = rows[0]!.id;
  const perSession = MESSAGES / SESSIONS;
  await client.query(
    `with s as (
       insert into chat_sessions (user_id, title, last_seq, message_count)
       select $1, 'bench ' || i, $2, $2 from generate_series(1, $3) i returning id
     )
     insert into chat_messages (session_id, seq, role, content, metadata)
     select s.id, seq, case when seq % 2 = 0 then 'assistant' else 'user' end,
            repeat('lorem ipsum dolor sit amet ', 12) || seq, jsonb_build_object('seq', seq)
       from s, generate_series(1, $2) seq`,
    [userId, perSession, SESSIONS],
  );
  await client.query('analyze chat_messages');
  return userId;
}

/** The same rows as the export's biggest table, as JSON text through a bare cursor. */
async function baselineExport(client: pg.Client, userId: string): Promise<number> {
  const started = performance.now();
  await client.query('begin isolation level repeatable read read only');
  await client.query(
    `declare b no scroll cursor for
       select to_jsonb(t)::text as row from chat_messages t
        where session_id in (select id from chat_sessions where user_id = $1) order by t.id`,
    [userId],
  );
  let rows = 0;
  let bytes = 0;
  for (;;) {
    const page = await client.query<{ row: string }>('fetch forward 2000 from b');
    if (page.rows.length === 0) break;
    rows += page.rows.length;
    for (const { row } of page.rows) bytes += row.length;
  }
  await client.query('commit');
  if (rows !== MESSAGES || bytes === 0) throw new Error(`baseline read ${rows} rows`);
  return performance.now() - started;
}

async function timedExport(orm: MikroORM, userId: string): Promise<number> {
  const started = performance.now();
  let rows = 0;
  for await (const chunk of exportAccount(orm.em.fork(), userId)) {
    for (
      let i = chunk.indexOf('"table":"chat_messages"');
      i !== -1;
      i = chunk.indexOf('"table":"chat_messages"', i + 1)
    ) {
      rows += 1;
    }
  }
  if (rows !== MESSAGES) throw new Error(`export wrote ${rows} messages`);
  return performance.now() - started;
}

const db = await openBenchDatabase(process.env.DATABASE_URL, log, { database: 'threadstore_bench_account' });
const client = new pg.Client({ connectionString: db.url });
await client.connect();
const orm = await createOrm({ connection: connectionSettingsFromUrl(db.url, 'threadstore-bench-account') });
log(`seeding other users' conversations (${QUICK_DATASET.sessions} sessions)…`);
await seed(db.url, QUICK_DATASET, log);
const api = await startApi(db.url, 10);

const exportRows: { api: number; base: number; load: string }[] = [];
const eraseRows: { seconds: number; before: number; during: number; load: string; requests: number }[] = [];
try {
  for (let round = 1; round <= ROUNDS; round += 1) {
    const userId = await seedAccount(client, round);
    const base = await baselineExport(client, userId);
    const took = await timedExport(orm, userId);
    exportRows.push({ api: MESSAGES / (took / 1000), base: MESSAGES / (base / 1000), load: load() });
    log(
      `round ${round}: export ${Math.round(MESSAGES / (took / 1000))} msg/s, bare cursor ${Math.round(MESSAGES / (base / 1000))} msg/s (load ${load()})`,
    );

    const history = () => historyRequest(Math.floor(Math.random() * QUICK_DATASET.sessions));
    const before = await runLoad({
      port: api.port,
      concurrency: 32,
      ratePerSecond: RATE,
      next: history,
      warmup: { ms: 1_000 },
      measure: { ms: BEFORE_MS },
    });
    const done = new AbortController();
    const during = runLoad({
      port: api.port,
      concurrency: 32,
      ratePerSecond: RATE,
      next: history,
      warmup: { requests: 0 },
      measure: { until: done.signal },
    });
    const started = performance.now();
    const receipt = await eraseAccount(orm.em.fork(), userId);
    const seconds = (performance.now() - started) / 1000;
    done.abort();
    const measured = await during;
    if (receipt.status !== 'completed' || receipt.counts.chat_messages !== MESSAGES) {
      throw new Error(`erasure incomplete: ${JSON.stringify(receipt)}`);
    }
    const p99 = (latencies: Float64Array) => percentile(latencies, 0.99);
    eraseRows.push({
      seconds,
      before: p99(before.latenciesMs),
      during: p99(measured.latenciesMs),
      load: load(),
      requests: measured.requests,
    });
    log(
      `round ${round}: erasure ${seconds.toFixed(2)} s; others' p99 ${p99(before.latenciesMs).toFixed(1)} ms before, ` +
        `${p99(measured.latenciesMs).toFixed(1)} ms during (${measured.requests} requests, ${measured.non2xx} non-2xx; load ${load()})`,
    );
  }
} finally {
  await api.stop();
  await orm.close();
  await client.end();
  await db.stop();
}

const exportRatio = exportRows.map((row) => row.api / row.base);
const p99Ratio = eraseRows.map((row) => row.during / row.before);
const report = [
  `# Account export and erasure — ${new Date().toISOString().slice(0, 10)}`,
  '',
  `${MESSAGES.toLocaleString('en-US')} messages in ${SESSIONS} sessions per account; ${ROUNDS} rounds; others' traffic: ` +
    `messages.history at ${RATE}/s (open loop). Load average (1 min) printed beside each round.`,
  '',
  table(
    [
      'round',
      'export msg/s',
      'bare cursor msg/s',
      'ratio',
      'erasure s',
      "others' p99 before ms",
      'during ms',
      'p99 ratio',
      'load',
    ],
    exportRows.map((row, i) => [
      String(i + 1),
      row.api.toFixed(0),
      row.base.toFixed(0),
      exportRatio[i]!.toFixed(2),
      eraseRows[i]!.seconds.toFixed(2),
      eraseRows[i]!.before.toFixed(1),
      eraseRows[i]!.during.toFixed(1),
      p99Ratio[i]!.toFixed(2),
      `${row.load} / ${eraseRows[i]!.load}`,
    ]),
  ),
  '',
  `- export: ${spread(exportRows.map((row) => row.api))} msg/s (goal ≥ 20,000), ${spread(exportRatio)} × the bare cursor`,
  `- erasure of ${MESSAGES.toLocaleString('en-US')} messages: ${spread(eraseRows.map((row) => row.seconds))} s (goal ≤ 10 s)`,
  `- others' p99 during / before: ${spread(p99Ratio)} (goal ≤ 1.5); median before ${median(eraseRows.map((r) => r.before)).toFixed(1)} ms`,
  '',
  '```',
  ...lines,
  '```',
  '',
].join('\n');
const out =
  process.env.BENCH_OUT ??
  join(import.meta.dirname, '..', 'results', `account-${new Date().toISOString().slice(0, 10)}.md`);
await writeFile(out, report);
console.log(`\nwritten to ${out}`);
