/**
 * The search indexer's throughput on a bulk import's backlog (issue 8, goal 5), against the bare
 * cost of the vectors measured in the same run.
 *
 *   indexer:  BENCH_INDEXER_MESSAGES (60,000) imported messages (200–800 characters of prose) queued
 *             as an import queues them (`bulk`), drained by `loops` concurrent drainSearchQueue loops
 *             (what the worker runs) with batches of `batch`; the search table emptied before each
 *             configuration, so every one inserts fresh entries. Messages indexed a second and
 *             PostgreSQL CPU per message.
 *   baseline: `select count(to_tsvector(...))` over the same messages: the vectors alone, nothing
 *             stored (the floor of any indexer design that keeps to_tsvector('simple')).
 *
 * Median and range of BENCH_ROUNDS (3) rounds, configurations in a rotating order; the 1-minute
 * load average beside each figure. DATABASE_URL selects a server, else the embedded PostgreSQL 18.
 */
import { loadavg } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { connectionSettingsFromUrl, createOrm, FTS_SOURCE_CHARS, uuidv7 } from '@threadstore/db';
import { drainSearchQueue } from '@threadstore/domain';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { openBenchDatabase } from '../api/database.ts';
import { makeCorpus, randomContent } from '../api/dataset.ts';
import { treeCpuSeconds } from '../api/processes.ts';
import { formatNumber, median, spread, table } from '../api/report.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MESSAGES = Number(process.env.BENCH_INDEXER_MESSAGES ?? 60_000);
const CONFIGS = (process.env.BENCH_INDEXER_CONFIGS ?? '1000x1,5000x1,20000x1,1000x2,5000x2').split(',').map((text) => {
  const [batch, loops] = text.split('x').map(Number);
  return { batch: batch!, loops: loops!, name: `batch ${formatNumber(batch!)} × ${loops} loop(s)` };
});

const lines: string[] = [];
const log = (line: string) => {
  console.log(line);
  lines.push(line);
};
const load = () => loadavg()[0]!;

async function main() {
  const database = await openBenchDatabase(process.env.DATABASE_URL, log, { database: 'threadstore_bench_indexer' });
  if (database.postmasterPid === null)
    throw new Error('this benchmark reads the server’s CPU: run it on a local server');
  const pgCpu = () => treeCpuSeconds(database.postmasterPid!);
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  const orm = await createOrm({ connection: { ...connectionSettingsFromUrl(database.url), poolMax: 4 } });
  try {
    // The messages: one session, COPYed (seqs in order); what the indexer reads of them is the content.
    const corpus = makeCorpus();
    const sessionId = uuidv7();
    await client.query(`insert into chat_sessions (id, anonymous_id) values ($1, $2)`, [sessionId, uuidv7()]);
    const rows: string[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      const content = randomContent(corpus).replace(/[\\\n\r\t]/g, ' ');
      rows.push(`${uuidv7()}\t${sessionId}\t${i + 1}\tuser\t${content}\n`);
    }
    await client.query('begin');
    await pipeline(
      Readable.from([rows.join('')]),
      client.query(copyFrom('copy chat_messages (id, session_id, seq, role, content) from stdin')),
    );
    await client.query('commit');
    await client.query('vacuum analyze chat_messages');
    log(`messages: ${formatNumber(MESSAGES)}, ${CONFIGS.length} indexer configurations, ${ROUNDS} rounds`);

    const results = new Map<string, { rate: number; cpu: number; load: number }[]>();
    const bare: { rate: number; cpu: number; load: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = [...CONFIGS.slice(round % CONFIGS.length), ...CONFIGS.slice(0, round % CONFIGS.length)];
      for (const config of order) {
        await client.query('truncate chat_message_search');
        await client.query(
          `insert into chat_message_search_queue (message_id, bulk) select id, true from chat_messages`,
        );
        await client.query('vacuum analyze chat_message_search_queue');
        await client.query('checkpoint');
        const loadBefore = load();
        const cpu0 = pgCpu();
        const started = performance.now();
        const totals = await Promise.all(
          Array.from({ length: config.loops }, () => drainSearchQueue(orm.em.fork(), { batchSize: config.batch })),
        );
        const seconds = (performance.now() - started) / 1000;
        const cpu = ((pgCpu() - cpu0) / MESSAGES) * 1e6;
        const indexed = totals.reduce((sum, total) => sum + total.indexed, 0);
        if (indexed !== MESSAGES) throw new Error(`indexed ${indexed} of ${MESSAGES}`);
        const sample = { rate: MESSAGES / seconds, cpu, load: loadBefore };
        results.set(config.name, [...(results.get(config.name) ?? []), sample]);
        log(
          `round ${round + 1}: ${config.name}: ${formatNumber(sample.rate)} msg/s, PostgreSQL ${formatNumber(cpu)} µs/msg (load ${loadBefore.toFixed(2)})`,
        );
      }
      {
        const loadBefore = load();
        const cpu0 = pgCpu();
        const started = performance.now();
        await client.query(
          `select count(to_tsvector('simple'::regconfig, left(content, ${FTS_SOURCE_CHARS}))) from chat_messages`,
        );
        const seconds = (performance.now() - started) / 1000;
        const sample = { rate: MESSAGES / seconds, cpu: ((pgCpu() - cpu0) / MESSAGES) * 1e6, load: loadBefore };
        bare.push(sample);
        log(
          `round ${round + 1}: bare to_tsvector: ${formatNumber(sample.rate)} msg/s, PostgreSQL ${formatNumber(sample.cpu)} µs/msg (load ${loadBefore.toFixed(2)})`,
        );
      }
    }

    const bareCpu = median(bare.map((s) => s.cpu));
    const out = [
      `## Search indexer on a backlog of ${formatNumber(MESSAGES)} imported messages; ${ROUNDS} rounds`,
      '',
      table(
        ['configuration', 'msg/s indexed', 'PostgreSQL µs/msg', 'CPU ÷ bare to_tsvector', 'load (1 min) per round'],
        [
          ...CONFIGS.map((config) => {
            const samples = results.get(config.name)!;
            return [
              config.name,
              spread(samples.map((s) => s.rate)),
              spread(samples.map((s) => s.cpu)),
              formatNumber(median(samples.map((s) => s.cpu)) / bareCpu),
              samples.map((s) => s.load.toFixed(2)).join(', '),
            ];
          }),
          [
            'bare to_tsvector (one statement, nothing stored)',
            spread(bare.map((s) => s.rate)),
            spread(bare.map((s) => s.cpu)),
            '1',
            bare.map((s) => s.load.toFixed(2)).join(', '),
          ],
        ],
      ),
    ];
    log('');
    for (const line of out) log(line);
  } finally {
    await orm.close();
    await client.end();
    await database.stop();
  }
}

await main();
