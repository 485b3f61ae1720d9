import { FTS_SOURCE_CHARS } from '@threadstore/db';
import pg from 'pg';
import { makeCorpus, ownerIdSql, randomContent, sessionIdSql } from '../api/dataset.ts';
import { learnerIdSql, liveAnonymousCount, liveCount, userIdSql, type MaintenanceShape } from './dataset.ts';

/** One connection per core: seeding is CPU-bound in PostgreSQL (mostly the generated tsvector). */
const SEEDING_CONNECTIONS = 2;
const CONTENT_POOL = 4_096;
const SEARCH_SLICES = 40;

/**
 * The plan of the data (sessions, memories, message contents) lives in its own schema, which the
 * vacuum-analyze and stats jobs (they look at the service's schema only) never see. Every
 * message's id, time and parent is a function of its (session, seq), so they are computed, not
 * looked up.
 */
const PLAN = 'bench_plan';

/** When message `k` of a session was written: evenly spread over its active span. */
const messageAt = (first: string, span: string, n: string, k: string) =>
  `to_timestamp(${first} + ${span} * (${k} - 1) / (${n} - 1))`;
/** A UUIDv7 (as the API makes them) from the message's time and a hash of its position. */
const messageId = (i: string, k: string, at: string) =>
  `left(overlay(overlay(lpad(to_hex(floor(extract(epoch from ${at}) * 1000)::bigint), 12, '0') || md5(${i} || ':' || ${k})
     placing '7' from 13) placing '8' from 17), 32)::uuid`;

export interface SeedReport {
  seconds: number;
  sessions: number;
  messages: number;
  expiredSessions: number;
  expiredMessages: number;
  chainedMessages: number;
  memories: number;
  /** chat_messages with its indexes and TOAST. */
  messagesTableBytes: number;
}

export async function seedConversations(
  url: string,
  shape: MaintenanceShape,
  log: (line: string) => void,
): Promise<SeedReport> {
  const started = performance.now();
  const clients = await openSeedingClients(url);
  const [client] = clients as [pg.Client];
  try {
    await plan(client, shape);
    await client.query(
      `insert into users (id, issuer, subject)
       select ${userIdSql('u')}, 'bench', 'user-' || u from generate_series(0, $1::int - 1) u`,
      [shape.users],
    );
    // The full-text GIN index is rebuilt once at the end, which costs a fraction of maintaining it
    // row by row; the B-tree indexes are maintained row by row, with the page splits of a live table.
    const gin = await dropGinIndexes(client);
    await insertSessions(client);
    await insertMessages(clients, shape, log, started);
    for (const { definition } of gin) await client.query(definition);
    await indexForSearch(clients, log, started);
    await insertMemories(client);
    await client.query('vacuum (analyze) chat_messages, chat_message_search, chat_sessions, memories, users');
    await client.query('checkpoint');

    const [row] = (
      await client.query<Record<keyof Omit<SeedReport, 'seconds'>, string>>(
        `select (select count(*) from chat_sessions) as sessions,
                (select count(*) from chat_messages) as messages,
                (select count(*) from ${PLAN}.sessions where kind = 'expired') as "expiredSessions",
                (select sum(n) from ${PLAN}.sessions where kind = 'expired') as "expiredMessages",
                (select count(*) from chat_messages where parent_id is not null) as "chainedMessages",
                (select count(*) from memories) as memories,
                pg_total_relation_size('chat_messages') as "messagesTableBytes"`,
      )
    ).rows;
    const planned = (await client.query<{ n: string }>(`select sum(n) as n from ${PLAN}.sessions`)).rows[0]!.n;
    if (row!.messages !== planned) throw new Error(`seeded ${row!.messages} messages, planned ${planned}`);
    return { seconds: (performance.now() - started) / 1000, ...numbers(row!) };
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}

/** A row of counts as numbers (PostgreSQL's bigint arrives as text). */
export function numbers<Key extends string>(row: Record<Key, string>): Record<Key, number> {
  return Object.fromEntries(Object.entries(row).map(([key, value]) => [key, Number(value)])) as Record<Key, number>;
}

async function plan(client: pg.Client, shape: MaintenanceShape): Promise<void> {
  const anonymous = liveAnonymousCount(shape);
  const live = liveCount(shape);
  const now = Date.now() / 1000;
  await client.query(`drop schema if exists ${PLAN} cascade`);
  await client.query(`create schema ${PLAN}`);
  // setseed makes random() repeat on this connection, so every run seeds the same data.
  await client.query('select setseed(0.4242)');
  await client.query(
    `create table ${PLAN}.sessions as
     select i, ${sessionIdSql('i')} as id, kind, user_id, n, last_epoch - span as first_epoch, span, chained
     from (
       select i, kind,
              case when kind <> 'anonymous' then ${userIdSql('i % $5::int')} end as user_id,
              case when i = 0 or i = $1::int - 1 then $6::int
                   else greatest(2, round($7::int * (0.5 + random())))::int end as n,
              -- days since the last activity: within the anonymous policy (30), between it and the
              -- user policy (90), or past it
              $8::float8 - 86400 * case kind when 'anonymous' then random() * 20
                                             when 'live_user' then 30 + random() * 59
                                             else 91 + random() * 280 end as last_epoch,
              -- live sessions began up to 400 days ago, expired ones were active for up to 30 days
              86400 * case kind when 'expired' then 1 + random() * 29 else 1 + random() * 379 end as span,
              random() < $4::float8 as chained
       from (select i, case when i < $2::int then 'anonymous' when i < $3::int then 'live_user' else 'expired' end as kind
             from generate_series(0, $1::int - 1) i) kinds
     ) planned`,
    [
      shape.sessions,
      anonymous,
      live,
      shape.chainedShare,
      shape.users,
      shape.bigSessionMessages,
      shape.messagesPerSession,
      now,
    ],
  );
  await client.query(`alter table ${PLAN}.sessions add primary key (i)`);
  await client.query(`create index on ${PLAN}.sessions (first_epoch)`);
  // Memories cite one message each, half of them in expired sessions (so the purge meets them).
  await client.query(
    `create table ${PLAN}.memories as
     select m.j, m.user_id, m.kind, m.created_at,
            ${messageId('s.i', 'k', messageAt('s.first_epoch', 's.span', 's.n', 'k'))} as source_message_id
     from (
       select j, ${userIdSql('j % $4::int')} as user_id,
              (array['short_term', 'episodic', 'long_term'])[1 + j % 3] as kind,
              to_timestamp($5::float8 - random() * 60 * 86400) as created_at,
              case when j % 2 = 0 then $2::int + floor(random() * ($3::int - $2::int))
                   else floor(random() * $2::int) end::int as source_i,
              random() as r
       from generate_series(0, $1::int - 1) j
     ) m
     join ${PLAN}.sessions s on s.i = m.source_i
     cross join lateral (select 1 + floor(m.r * s.n)::int as k) position`,
    [shape.memories, live, shape.sessions, shape.users, now],
  );
  const corpus = makeCorpus();
  // User messages are 200–800 characters, assistant answers one or two paragraphs of that size:
  // the longer ones carry a tsvector that PostgreSQL moves to TOAST, as long answers do.
  const user = Array.from({ length: CONTENT_POOL }, () => randomContent(corpus));
  const assistant = Array.from({ length: CONTENT_POOL }, (_, index) =>
    Array.from({ length: 1 + (index % 2) }, () => randomContent(corpus)).join('\n\n'),
  );
  await client.query(
    `create table ${PLAN}.contents as
     select ordinality::int - 1 as id, body from unnest($1::text[]) with ordinality as body`,
    [[...user, ...assistant]],
  );
  await client.query(`alter table ${PLAN}.contents add primary key (id)`);
}

async function insertSessions(client: pg.Client): Promise<void> {
  await client.query(
    `insert into chat_sessions (id, user_id, anonymous_id, title, created_at, updated_at, last_activity_at,
                                last_message_at, last_seq, message_count)
     select id, user_id, case when kind = 'anonymous' then ${ownerIdSql('i')} end, 'Bench session ' || i,
            to_timestamp(first_epoch), to_timestamp(first_epoch + span), to_timestamp(first_epoch + span),
            to_timestamp(first_epoch + span), n, n
     from ${PLAN}.sessions`,
  );
}

/**
 * Writes the messages in time order, one slice of time per statement, each slice sorted by time:
 * a page of the heap holds what all sessions said at that time, as live traffic leaves it. Two
 * connections take alternate slices.
 */
async function insertMessages(
  clients: pg.Client[],
  shape: MaintenanceShape,
  log: (line: string) => void,
  started: number,
): Promise<void> {
  const [range] = (
    await clients[0]!.query<{ first: number; last: number }>(
      `select min(first_epoch) as first, max(first_epoch + span) as last from ${PLAN}.sessions`,
    )
  ).rows;
  const first = range!.first - 1;
  const step = (range!.last + 1 - first) / shape.slices;
  // Message k falls in the slice [t0, t1) when t0 <= at(k) < t1; both bounds use one formula, so
  // consecutive slices split the messages exactly.
  const position = (t: string) => `ceil(1 + (${t} - s.first_epoch) * (s.n - 1) / s.span)::bigint`;
  const at = messageAt('s.first_epoch', 's.span', 's.n', 'k');
  const sql = `
    insert into chat_messages (id, session_id, seq, parent_id, role, content, model, prompt_tokens,
                               completion_tokens, cost, client_message_id, created_at, updated_at)
    select ${messageId('s.i', 'k', 'm.at')}, s.id, k,
           case when s.chained and k > 1 then ${messageId('s.i', 'k - 1', messageAt('s.first_epoch', 's.span', 's.n', 'k - 1'))} end,
           case when k % 2 = 1 then 'user' else 'assistant' end,
           c.body,
           case when k % 2 = 0 then 'bench-model' end,
           case when k % 2 = 0 then 400 + (k % 50) * 40 end,
           case when k % 2 = 0 then length(c.body) / 4 end,
           case when k % 2 = 0 then round((400 + (k % 50) * 40) * 0.000003 + length(c.body) / 4 * 0.000015, 10) end,
           case when k % 2 = 1 then 'c-' || s.i || '-' || k end,
           m.at, m.at
    from ${PLAN}.sessions s
    cross join lateral generate_series(greatest(1, ${position('$1::float8')}), least(s.n, ${position('$2::float8')} - 1)) k
    cross join lateral (select ${at} as at) m
    join ${PLAN}.contents c on c.id = case when k % 2 = 1 then 0 else ${CONTENT_POOL} end + (s.i * 7919 + k * 104729) % ${CONTENT_POOL}
    where s.first_epoch < $2::float8 and s.first_epoch + s.span >= $1::float8
    order by m.at`;
  let next = 0;
  let done = 0;
  const work = async (client: pg.Client) => {
    for (let slice = next++; slice < shape.slices; slice = next++) {
      await client.query(sql, [first + slice * step, first + (slice + 1) * step]);
      done += 1;
      if (done % Math.ceil(shape.slices / 10) === 0) {
        log(`  messages: slice ${done}/${shape.slices} (${Math.round((performance.now() - started) / 1000)} s)`);
      }
    }
  };
  await Promise.all(clients.map(work));
}

/**
 * Every live message gets its search row, as the worker's search indexer would have written it
 * shortly after the append: in the messages' time order, so the search table's pages interleave
 * expired and live sessions' rows as the messages' pages do. Its GIN index is built once at the end.
 */
async function indexForSearch(clients: pg.Client[], log: (line: string) => void, started: number): Promise<void> {
  const [client] = clients as [pg.Client];
  const gin = await dropGinIndexes(client, 'chat_message_search');
  const { rows } = await client.query<{ first: Date; last: Date }>(
    'select min(created_at) as first, max(created_at) as last from chat_messages',
  );
  const first = rows[0]!.first.getTime();
  const step = (rows[0]!.last.getTime() - first) / SEARCH_SLICES + 1;
  // In time order: the two connections take consecutive slices, so the rows still arrive about in order.
  let next = 0;
  const work = async (c: pg.Client) => {
    for (let slice = next++; slice < SEARCH_SLICES; slice = next++) {
      await c.query(
        `insert into chat_message_search (message_id, session_id, search_vector)
         select id, session_id, to_tsvector('simple'::regconfig, left(content, ${FTS_SOURCE_CHARS}))
         from chat_messages
         where created_at >= to_timestamp($1::float8 / 1000) and created_at < to_timestamp($2::float8 / 1000)
           and deleted_at is null
         order by created_at`,
        [first + slice * step, first + (slice + 1) * step],
      );
    }
  };
  await Promise.all(clients.map(work));
  for (const { definition } of gin) await client.query(definition);
  log(`  search rows written (${Math.round((performance.now() - started) / 1000)} s)`);
}

async function insertMemories(client: pg.Client): Promise<void> {
  await client.query(
    // Triggers are off on the seeding connections (replica role), so the lineage its trigger would
    // default to the row's id is set here.
    `insert into memories (id, lineage_id, user_id, kind, content, source_message_id, created_at, updated_at)
     select id, id, user_id, kind, 'Bench memory ' || j, source_message_id, created_at, created_at
     from (select gen_random_uuid() as id, * from ${PLAN}.memories) planned`,
  );
}

async function dropGinIndexes(client: pg.Client, table = 'chat_messages'): Promise<{ definition: string }[]> {
  const gin = (
    await client.query<{ name: string; definition: string }>(
      `select indexrelid::regclass::text as name, pg_get_indexdef(indexrelid) as definition
       from pg_index join pg_class on pg_class.oid = indexrelid join pg_am on pg_am.oid = pg_class.relam
       where indrelid = $1::regclass and amname = 'gin'`,
      [table],
    )
  ).rows;
  for (const { name } of gin) await client.query(`drop index ${name}`);
  return gin;
}

async function openSeedingClients(url: string): Promise<pg.Client[]> {
  return Promise.all(
    Array.from({ length: SEEDING_CONNECTIONS }, async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      // A bulk load: a crash would just mean seeding again. The measured runs use the default (on).
      await client.query('set synchronous_commit = off');
      await client.query(`set maintenance_work_mem = '512MB'`);
      // The rows are consistent by construction, so their foreign-key triggers are skipped.
      await client.query('set session_replication_role = replica');
      return client;
    }),
  );
}

/**
 * The academy: `learners` users with an academy profile's worth of missions and badges to earn.
 * The ledger itself is added by {@link appendLedger}.
 */
export async function seedAcademy(url: string, learners: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      `insert into users (id, issuer, subject)
       select ${learnerIdSql('u')}, 'bench', 'learner-' || u from generate_series(0, $1::int - 1) u`,
      [learners],
    );
    await client.query(
      `insert into academy_missions (code, title, xp_reward, criteria, starts_at, ends_at) values
       ('lessons-30', 'Thirty lessons this term', 50, '{"measure":"events","reason":"lesson","target":30}',
        now() - interval '60 days', now() + interval '30 days'),
       ('xp-3000', 'Earn 3,000 XP', 100, '{"measure":"xp","target":3000}', null, null),
       ('quizzes-20', 'Twenty quizzes last term', 0, '{"measure":"events","reason":"quiz","target":20}',
        now() - interval '120 days', now() - interval '30 days'),
       ('streak-week', 'A week of daily practice', 25, '{"measure":"events","target":7}', now() - interval '7 days', null)`,
    );
    await client.query(
      `insert into academy_badges (code, name, criteria) values
       ('xp-1000', '1,000 XP', '{"measure":"xp","threshold":1000}'),
       ('xp-5000', '5,000 XP', '{"measure":"xp","threshold":5000}'),
       ('streak-5', 'Five days in a row', '{"measure":"streak","threshold":5}'),
       ('missions-2', 'Two missions', '{"measure":"missions","threshold":2}')`,
    );
  } finally {
    await client.end();
  }
}

/** Empties the ledger and everything folded from it (learners, missions and badges stay defined). */
export async function resetLedger(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      'truncate academy_xp_transactions, academy_users, academy_user_missions, academy_user_badges, academy_xp_rollup_state, academy_weekly_xp',
    );
  } finally {
    await client.end();
  }
}

/**
 * Appends `rows` ledger rows: activity (lessons, quizzes, a few corrections) spread over the last
 * 90 days (`recent`: today), learners picked at random. Written in transactions of at most
 * 100,000 rows so that the rollup's (tx_id, id) watermark meets several transactions.
 */
export async function appendLedger(
  url: string,
  { rows, learners, recent, tag }: { rows: number; learners: number; recent: boolean; tag: string },
): Promise<number> {
  const started = performance.now();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const chunk = 100_000;
    for (let from = 0; from < rows; from += chunk) {
      await client.query(
        `insert into academy_xp_transactions (user_id, amount, reason, source_ref, created_at)
         select ${learnerIdSql('floor(random() * $3::int)::int')},
                case when g % 40 = 0 then -(1 + g % 20) else 1 + (g * 7) % 50 end,
                case when g % 40 = 0 then 'correction' when g % 3 = 0 then 'quiz' else 'lesson' end,
                $4 || '-' || g,
                case when $5::boolean then now() - random() * interval '1 hour'
                     else now() - random() * interval '90 days' end
         from generate_series($1::int, $2::int) g`,
        [from, Math.min(rows, from + chunk) - 1, learners, tag, recent],
      );
    }
    if (!recent) await client.query('vacuum (analyze) academy_xp_transactions');
    return (performance.now() - started) / 1000;
  } finally {
    await client.end();
  }
}
