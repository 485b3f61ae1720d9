/**
 * History on interleaved vs clustered data (issue 8, goal 7: within 2×). The same last-50 page
 * (`historyStatement`, the SQL `messages.history` runs) of sessions whose messages are interleaved
 * with other sessions' on the heap (written round-robin, as concurrent conversations write them)
 * and of sessions whose messages are contiguous (each written in one go), in one table.
 *
 *   pnpm bench:history-locality            500 + 500 sessions × 200 messages, 5 rounds
 *   options: --sessions N (per group), --messages N, --rounds N, --out FILE
 *   DATABASE_URL=… uses that server (then no cold-cache rounds: they restart the embedded one)
 *
 * Warm: every page read once, then each round reads every session's page of each group (one
 * client, back to back), groups alternating first. Cold-ish: the embedded server is restarted
 * before each round (its shared buffers empty; the OS page cache stays warm), then each group's
 * pages are read once. Beside the times: how many distinct heap pages a page's 50 rows sit on, and
 * EXPLAIN (ANALYZE, BUFFERS) of one page per group.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { parseArgs } from 'node:util';
import { historyStatement } from '@threadstore/domain';
import pg from 'pg';
import { openBenchDatabase, type BenchDatabase } from './database.ts';
import { makeCorpus, ownerId, ownerIdSql, randomContent, sessionId, sessionIdSql } from './dataset.ts';
import { describeMachine, formatNumber, median, spread, table } from './report.ts';

const { values: args } = parseArgs({
  options: {
    sessions: { type: 'string' },
    messages: { type: 'string' },
    rounds: { type: 'string' },
    out: { type: 'string' },
  },
});
const perGroup = Number(args.sessions ?? 500);
const messages = Number(args.messages ?? 200);
const rounds = Number(args.rounds ?? 5);
const PAGE = 50;
const log = (line: string) => process.stderr.write(`${line}\n`);
const load1 = () => loadavg()[0]!;
const DATABASE = 'threadstore_bench_locality';
const open = (keep: boolean) =>
  openBenchDatabase(process.env.DATABASE_URL, log, { database: DATABASE, dataDirName: 'postgres-locality', keep });

type Group = 'interleaved' | 'clustered';
const GROUPS: Group[] = ['interleaved', 'clustered'];
/** Interleaved sessions are [0, perGroup), clustered ones [perGroup, 2·perGroup). */
const indexes = (group: Group) =>
  Array.from({ length: perGroup }, (_, i) => (group === 'interleaved' ? i : perGroup + i));

const machine = describeMachine();
let db: BenchDatabase = await open(false);
try {
  const seeded = await seed(db.url);
  const spreadOf = await pageSpread(db.url);
  const explained = await explainPages(db.url);

  const warm: Record<Group, { ms: number; load: number }[]> = { interleaved: [], clustered: [] };
  {
    const client = await connect(db.url);
    for (const group of GROUPS) await readPages(client, group);
    for (let round = 1; round <= rounds; round += 1) {
      for (const group of round % 2 === 1 ? GROUPS : [...GROUPS].reverse()) {
        warm[group].push({ ms: await readPages(client, group), load: load1() });
      }
    }
    await client.end();
  }
  const cold: Record<Group, { ms: number; load: number }[]> = { interleaved: [], clustered: [] };
  if (process.env.DATABASE_URL === undefined) {
    for (let round = 1; round <= rounds; round += 1) {
      await db.stop();
      db = await open(true);
      const client = await connect(db.url);
      for (const group of round % 2 === 1 ? GROUPS : [...GROUPS].reverse()) {
        cold[group].push({ ms: await readPages(client, group), load: load1() });
      }
      await client.end();
      log(`cold round ${round}: ${GROUPS.map((g) => `${g} ${cold[g].at(-1)!.ms.toFixed(3)} ms`).join(', ')}`);
    }
  }

  const ratio = (figures: Record<Group, { ms: number }[]>) =>
    median(figures.interleaved.map((f) => f.ms)) / median(figures.clustered.map((f) => f.ms));
  const row = (name: string, figures: Record<Group, { ms: number; load: number }[]>) => [
    name,
    spread(figures.interleaved.map((f) => f.ms)),
    spread(figures.clustered.map((f) => f.ms)),
    formatNumber(ratio(figures)),
    spread([...figures.interleaved, ...figures.clustered].map((f) => f.load)),
  ];
  const markdown = [
    `# History on interleaved vs clustered data (${new Date().toISOString().slice(0, 10)})`,
    '',
    `Command: \`pnpm bench:history-locality${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}\``,
    '',
    ...Object.entries(machine).map(([key, value]) => `- ${key}: ${value}`),
    `- PostgreSQL: ${seeded.version}${process.env.DATABASE_URL ? '' : ' (embedded, shared_buffers=1GB)'}`,
    `- Data: ${formatNumber(perGroup)} interleaved + ${formatNumber(perGroup)} clustered sessions × ${formatNumber(messages)} messages (200–800 characters) in one chat_messages table of ${formatNumber(seeded.bytes / 2 ** 20)} MiB with indexes; interleaved sessions written round-robin (message k of every session, then k + 1), clustered ones each in one statement. VACUUM ANALYZE and CHECKPOINT before measuring.`,
    `- A figure is the mean time of one last-${PAGE} page (\`historyStatement\`, the SQL of messages.history, through node-postgres, one client, back to back) over all sessions of a group; median [range] of ${rounds} rounds; 1-minute load average beside it.`,
    '',
    table(
      ['ms per page', 'Interleaved', 'Clustered', 'Interleaved ÷ clustered', 'Load (1 min)'],
      [
        row('warm (shared buffers hold everything)', warm),
        ...(cold.interleaved.length > 0
          ? [row('cold-ish (server restarted before each round; OS cache warm)', cold)]
          : []),
      ],
    ),
    '',
    table(
      ['Per page of 50', 'Interleaved', 'Clustered', 'Interleaved ÷ clustered'],
      [
        [
          'distinct heap pages the rows sit on (mean over the group)',
          formatNumber(spreadOf.interleaved),
          formatNumber(spreadOf.clustered),
          formatNumber(spreadOf.interleaved / spreadOf.clustered),
        ],
        [
          'buffers (EXPLAIN BUFFERS of one page, warm)',
          String(explained.interleaved.buffers),
          String(explained.clustered.buffers),
          formatNumber(explained.interleaved.buffers / explained.clustered.buffers),
        ],
        [
          'execution time (EXPLAIN ANALYZE of that page, warm)',
          `${formatNumber(explained.interleaved.ms)} ms`,
          `${formatNumber(explained.clustered.ms)} ms`,
          formatNumber(explained.interleaved.ms / explained.clustered.ms),
        ],
      ],
    ),
    '',
    'Plan of the interleaved page:',
    '',
    '```',
    explained.interleaved.plan,
    '```',
  ].join('\n');
  process.stdout.write(`${markdown}\n`);
  if (args.out) {
    const path = isAbsolute(args.out) ? args.out : join(import.meta.dirname, '..', '..', args.out);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, `${markdown}\n`);
    log(`wrote ${args.out}`);
  }
} finally {
  await db.stop();
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

/** Mean ms per page over the group's sessions. */
async function readPages(client: pg.Client, group: Group): Promise<number> {
  const started = performance.now();
  for (const i of indexes(group)) {
    const statement = historyStatement({ anonymousId: ownerId(i) }, { sessionId: sessionId(i) }, PAGE);
    const { rows } = await client.query(statement.text, statement.values);
    if (rows.length !== PAGE + 1) throw new Error(`session ${i}: ${rows.length} rows`);
  }
  return (performance.now() - started) / perGroup;
}

async function seed(url: string): Promise<{ version: string; bytes: number }> {
  const started = performance.now();
  const client = await connect(url);
  try {
    await client.query('set synchronous_commit = off');
    await client.query('set session_replication_role = replica');
    const corpus = makeCorpus();
    const contents = Array.from({ length: 2_000 }, () => randomContent(corpus));
    await client.query(
      `create temporary table bench_contents as
       select ordinality::int - 1 as id, body from unnest($1::text[]) with ordinality as body`,
      [contents],
    );
    await client.query(
      `insert into chat_sessions (id, anonymous_id, title, created_at, last_activity_at)
       select ${sessionIdSql('i')}, ${ownerIdSql('i')}, 'Locality ' || i, now() - interval '1 day', now()
         from generate_series(0, $1::int - 1) i`,
      [2 * perGroup],
    );
    const insert = (sessions: string, seqs: string, order: string) =>
      `insert into chat_messages (id, session_id, seq, role, content, created_at, updated_at)
       select gen_random_uuid(), ${sessionIdSql('i')}, seq, case when seq % 2 = 1 then 'user' else 'assistant' end,
              c.body, now() - interval '1 day' + seq * interval '1 second', now() - interval '1 day' + seq * interval '1 second'
         from ${sessions}, ${seqs}, bench_contents c
        where c.id = ((i * 7919 + seq * 104729) % 2000)
        order by ${order}`;
    // Interleaved: message `seq` of every interleaved session, then the next seq.
    for (let seq = 1; seq <= messages; seq += 1) {
      await client.query(insert(`generate_series(0, $1::int - 1) i`, `(select $2::int as seq) s`, 'i'), [
        perGroup,
        seq,
      ]);
    }
    // Clustered: each session's messages in one go.
    for (let i = perGroup; i < 2 * perGroup; i += 1) {
      await client.query(insert(`(select $1::int as i) s`, `generate_series(1, $2::int) seq`, 'seq'), [i, messages]);
    }
    await client.query(
      `update chat_sessions s set last_seq = m.n, message_count = m.n, last_message_at = m.last_at
         from (select session_id, count(*) as n, max(created_at) as last_at from chat_messages group by session_id) m
        where m.session_id = s.id`,
    );
    await client.query('vacuum (analyze) chat_messages, chat_sessions');
    await client.query('checkpoint');
    const { rows } = await client.query<{ version: string; bytes: string }>(
      `select version(), pg_total_relation_size('chat_messages') as bytes`,
    );
    log(`seeded ${2 * perGroup * messages} messages in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return { version: rows[0]!.version, bytes: Number(rows[0]!.bytes) };
  } finally {
    await client.end();
  }
}

/** Mean number of distinct heap pages holding a session's last 50 messages, per group. */
async function pageSpread(url: string): Promise<Record<Group, number>> {
  const client = await connect(url);
  try {
    const result = {} as Record<Group, number>;
    for (const group of GROUPS) {
      const { rows } = await client.query<{ pages: number }>(
        `select avg(pages)::float8 as pages from (
           select (select count(distinct (ctid::text::point)[0]) from (
                     select ctid from chat_messages m where m.session_id = ${sessionIdSql('i')}
                      order by seq desc limit ${PAGE}) last) as pages
             from unnest($1::int[]) i) per_session`,
        [indexes(group)],
      );
      result[group] = rows[0]!.pages;
    }
    return result;
  } finally {
    await client.end();
  }
}

async function explainPages(url: string): Promise<Record<Group, { buffers: number; ms: number; plan: string }>> {
  const client = await connect(url);
  try {
    const result = {} as Record<Group, { buffers: number; ms: number; plan: string }>;
    for (const group of GROUPS) {
      const i = indexes(group)[Math.floor(perGroup / 2)]!;
      const statement = historyStatement({ anonymousId: ownerId(i) }, { sessionId: sessionId(i) }, PAGE);
      await client.query(statement.text, statement.values);
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(
        `explain (analyze, buffers, costs off) ${statement.text}`,
        statement.values,
      );
      const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
      const top = /Buffers: shared hit=(\d+)(?: read=(\d+))?/.exec(plan);
      result[group] = {
        buffers: Number(top?.[1] ?? 0) + Number(top?.[2] ?? 0),
        ms: Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? Number.NaN),
        plan,
      };
    }
    return result;
  } finally {
    await client.end();
  }
}
