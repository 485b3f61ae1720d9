/**
 * Append and history throughput before and after message parts and edit history (issue 14), in
 * one run on one server, plus what the migration costs on a populated table.
 *
 *   pnpm bench:parts-edits [--rounds 3] [--ops 1000] [--messages 200000]
 *   (DATABASE_URL=… for that server, else the embedded PostgreSQL 18 under bench/.data)
 *
 * Two databases on the same server, seeded alike (`--messages` plain messages over 1,000
 * sessions, 500–800 characters each):
 *   main    migrated up to the migration before this change, written and read with main's SQL:
 *           the statements as shipped here with the four new columns taken out of what they
 *           return (the append statement of a plain message is otherwise the same text, since
 *           the new columns are bound only when a message has parts or an editOf)
 *   branch  migrated to the end, written and read with the statements as shipped
 * Once main's rounds are done, the last migration is applied to main's populated database and
 * timed (that is the migration a deployment runs).
 *
 * Each round: `--ops` sequential appends of one message to random sessions over one connection,
 * as named prepared statements (what the API runs), then `--ops` reads of the latest 50 of random
 * sessions; the variants alternate round by round. Figures: operations per second and ms per
 * operation, median [min–max] of the rounds, with the 1-minute load average after each round.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { connectionSettingsFromUrl, createOrm, startEmbeddedPostgres } from '@threadstore/db';
import { appendStatement, editMessage, historyStatement, prepareMessage } from '@threadstore/domain';
import pg from 'pg';
import { EMBEDDED_SETTINGS } from '../api/database.ts';
import { BENCH_LIMITS, makeCorpus, randomContent } from '../api/dataset.ts';
import { formatNumber, median, spread } from '../api/report.ts';
import { join } from 'node:path';
import { chmod, mkdir } from 'node:fs/promises';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    ops: { type: 'string', default: '1000' },
    messages: { type: 'string', default: '200000' },
  },
});
const rounds = Number(args.rounds);
const ops = Number(args.ops);
const seedMessages = Number(args.messages);
const SESSIONS = 1_000;
const log = (line: string) => process.stderr.write(`${line}\n`);

/** The migration this change adds, and the one before it (main's last). */
const THIS_MIGRATION = 'Migration20261207050017_messages_parts_and_versions';
const MAINS_LAST = 'Migration20261207023500_sessions_hot_append';

/** What this change added to every message statement's column list; main's statements lack it. */
const NEW_COLUMNS = /,\s*m\.parts, m\.version, to_char\(m\.edited_at[^)]*\) as edited_at, m\.edit_of/;
function asOnMain(text: string): string {
  const main = text.replace(NEW_COLUMNS, '');
  if (main === text) throw new Error('the statement no longer lists the new columns as expected: update NEW_COLUMNS');
  return main;
}

let server: { adminUrl: string; stop(): Promise<void> };
if (process.env.DATABASE_URL === undefined) {
  const dir = join(import.meta.dirname, '..', '.data');
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o755);
  const embedded = await startEmbeddedPostgres({
    dataDir: join(dir, 'postgres'),
    port: 0,
    database: 'postgres',
    postgresFlags: EMBEDDED_SETTINGS.flatMap((setting) => ['-c', setting]),
  });
  server = { adminUrl: embedded.adminUrl, stop: () => embedded.stop() };
} else {
  server = { adminUrl: process.env.DATABASE_URL, stop: async () => {} };
}

const urlOf = (database: string) => {
  const url = new URL(server.adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
};

/** A fresh database migrated up to `to` (or to the end), seeded; a connection to it. */
async function prepare(database: string, to: string | undefined): Promise<pg.Client> {
  const admin = new pg.Client({ connectionString: server.adminUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${database} with (force)`);
    await admin.query(`create database ${database}`);
  } finally {
    await admin.end();
  }
  const orm = await createOrm({ connection: connectionSettingsFromUrl(urlOf(database), 'threadstore-bench') });
  try {
    await orm.migrator.up(to === undefined ? undefined : { to });
  } finally {
    await orm.close();
  }
  const client = new pg.Client({ connectionString: urlOf(database) });
  await client.connect();
  const started = performance.now();
  await client.query(
    `insert into chat_sessions (id, anonymous_id, last_seq, message_count)
     select gen_random_uuid(), gen_random_uuid(), $1::bigint / $2, $1::bigint / $2 from generate_series(1, $2)`,
    [seedMessages, SESSIONS],
  );
  await client.query(
    `insert into chat_messages (session_id, seq, role, content)
     select s.id, n, case when n % 2 = 1 then 'user' else 'assistant' end,
            repeat(md5(s.id::text || n), 16 + (n % 10))
       from chat_sessions s, generate_series(1, $1::int / $2) n`,
    [seedMessages, SESSIONS],
  );
  await client.query('vacuum analyze');
  log(`${database}: seeded ${seedMessages} messages in ${formatNumber((performance.now() - started) / 1000)} s`);
  return client;
}

interface Session {
  id: string;
  anonymous_id: string;
}

const corpus = makeCorpus();
const PARTS = () => [
  { type: 'reasoning' as const, text: 'Looking it up.' },
  { type: 'text' as const, text: randomContent(corpus) },
  { type: 'tool-call' as const, toolCallId: 'call_1', toolName: 'search', input: { query: 'weather', days: 3 } },
];

type Variant = 'main' | 'branch' | 'branch, parts';

async function appendRound(client: pg.Client, sessions: Session[], variant: Variant): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < ops; i += 1) {
    const session = sessions[Math.floor(Math.random() * sessions.length)]!;
    const content = variant === 'branch, parts' ? PARTS() : randomContent(corpus);
    const message = prepareMessage({ role: 'assistant', content }, BENCH_LIMITS);
    const actor = { principal: { kind: 'anonymous' as const, anonymousId: session.anonymous_id }, requestId: null };
    const statement = appendStatement(actor, 'messages.append', session.id, [message]);
    const text = variant === 'main' ? asOnMain(statement.text) : statement.text;
    await client.query({ name: `append_${variant.length}_${text.length}`, text, values: statement.values });
  }
  return (performance.now() - started) / ops;
}

async function historyRound(client: pg.Client, sessions: Session[], variant: Variant): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < ops; i += 1) {
    const session = sessions[Math.floor(Math.random() * sessions.length)]!;
    const statement = historyStatement({ anonymousId: session.anonymous_id }, { sessionId: session.id }, 50);
    const text = variant === 'main' ? asOnMain(statement.text) : statement.text;
    const { rows } = await client.query({ name: `history_${variant.length}`, text, values: statement.values });
    if (rows.length === 0) throw new Error(`no history for session ${session.id}`);
  }
  return (performance.now() - started) / ops;
}

const mainDb = 'threadstore_bench_parts_main';
const branchDb = 'threadstore_bench_parts_branch';
const main = await prepare(mainDb, MAINS_LAST);
const branch = await prepare(branchDb, undefined);
try {
  const version = (await main.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]!.v;
  const sessionsOf = async (client: pg.Client) =>
    (await client.query<Session>('select id, anonymous_id from chat_sessions')).rows;
  const clients: Record<Variant, { client: pg.Client; sessions: Session[] }> = {
    main: { client: main, sessions: await sessionsOf(main) },
    branch: { client: branch, sessions: await sessionsOf(branch) },
    'branch, parts': { client: branch, sessions: [] },
  };
  clients['branch, parts'].sessions = clients.branch.sessions;
  const variants: Variant[] = ['main', 'branch', 'branch, parts'];
  type Figures = { ms: number; load: number }[];
  const appends = Object.fromEntries(variants.map((v) => [v, [] as Figures])) as Record<Variant, Figures>;
  const histories = Object.fromEntries(variants.map((v) => [v, [] as Figures])) as Record<Variant, Figures>;
  // Warm caches and prepared statements.
  for (const variant of variants) {
    await appendRound(clients[variant].client, clients[variant].sessions, variant);
    await historyRound(clients[variant].client, clients[variant].sessions, variant);
  }
  for (let round = 1; round <= rounds; round += 1) {
    const order = round % 2 === 1 ? variants : [...variants].reverse();
    for (const variant of order) {
      log(`round ${round}/${rounds}: ${variant}`);
      const { client, sessions } = clients[variant];
      appends[variant].push({ ms: await appendRound(client, sessions, variant), load: loadavg()[0]! });
      histories[variant].push({ ms: await historyRound(client, sessions, variant), load: loadavg()[0]! });
    }
  }

  // Edits, on the branch only (main has none): one connection, sequential, through the domain.
  const orm = await createOrm({ connection: connectionSettingsFromUrl(urlOf(branchDb), 'threadstore-bench') });
  const edits: Figures = [];
  try {
    const { rows: targets } = await branch.query<{ id: string; anonymous_id: string }>(
      `select m.id, s.anonymous_id from chat_messages m join chat_sessions s on s.id = m.session_id
        order by random() limit ${ops}`,
    );
    for (let round = 1; round <= rounds; round += 1) {
      const started = performance.now();
      for (const target of targets) {
        const actor = { principal: { kind: 'anonymous' as const, anonymousId: target.anonymous_id }, requestId: null };
        await editMessage(orm.em.fork(), actor, { id: target.id, content: randomContent(corpus) }, BENCH_LIMITS);
      }
      edits.push({ ms: (performance.now() - started) / targets.length, load: loadavg()[0]! });
    }
  } finally {
    await orm.close();
  }

  // The migration, on main's database: now as populated as the branch's.
  const { rows: counted } = await main.query<{ n: string }>('select count(*) as n from chat_messages');
  const migrationOrm = await createOrm({ connection: connectionSettingsFromUrl(urlOf(mainDb), 'threadstore-bench') });
  let migrationMs: number;
  try {
    const started = performance.now();
    await migrationOrm.migrator.up({ to: THIS_MIGRATION });
    migrationMs = performance.now() - started;
  } finally {
    await migrationOrm.close();
  }
  const migrationLoad = loadavg()[0]!;

  const perSecond = (figures: Figures) => spread(figures.map((f) => 1000 / f.ms));
  const row = (variant: string, figures: Figures) =>
    `| ${variant} | ${perSecond(figures)} | ${spread(figures.map((f) => f.ms))} | ${spread(figures.map((f) => f.load))} |`;
  const ratio = (a: Figures, b: Figures) => formatNumber(median(a.map((f) => f.ms)) / median(b.map((f) => f.ms)));
  process.stdout.write(
    [
      `PostgreSQL ${version} (${process.env.DATABASE_URL === undefined ? 'embedded' : 'DATABASE_URL'}), ${formatNumber(seedMessages)} seeded messages in ${SESSIONS} sessions per database, ${ops} sequential operations per round on one connection, ${rounds} rounds, ${new Date().toISOString()}`,
      '',
      'Append of one message (median [min–max] of the rounds):',
      '',
      '| variant | appends per second | ms per append | load average (1 min) after the round |',
      '| --- | --- | --- | --- |',
      row('main (schema and SQL before parts and edits)', appends.main),
      row('branch, plain text', appends.branch),
      row('branch, 3 parts (reasoning, text, tool call)', appends['branch, parts']),
      '',
      `branch ÷ main, ms per plain append: ${ratio(appends.branch, appends.main)}; parts ÷ main: ${ratio(appends['branch, parts'], appends.main)}`,
      '',
      'History, the latest 50 messages of a session:',
      '',
      '| variant | pages per second | ms per page | load average (1 min) after the round |',
      '| --- | --- | --- | --- |',
      row('main', histories.main),
      row('branch', histories.branch),
      row('branch (sessions now holding parts messages too)', histories['branch, parts']),
      '',
      `branch ÷ main, ms per page: ${ratio(histories.branch, histories.main)}`,
      '',
      'messages.edit of a random message (branch only), through the domain function:',
      '',
      '| | edits per second | ms per edit | load average (1 min) |',
      '| --- | --- | --- | --- |',
      row('edit content', edits),
      '',
      `Migration ${THIS_MIGRATION} on main's populated database (${formatNumber(Number(counted[0]!.n))} messages): ${formatNumber(migrationMs)} ms, load ${formatNumber(migrationLoad)}.`,
      '',
    ].join('\n'),
  );
} finally {
  await main.end();
  await branch.end();
  await server.stop();
}
