import pg from 'pg';
import { bigSessionIndex, makeCorpus, ownerIdSql, randomContent, sessionIdSql, type DatasetShape } from './dataset.ts';

const CONTENT_POOL = 4_096;
/** One connection per core: seeding is CPU-bound in PostgreSQL (mostly the generated tsvector). */
const SEEDING_CONNECTIONS = 2;

export interface SeedReport {
  messages: number;
  sessions: number;
  seconds: number;
  /** Heap, indexes and TOAST of chat_messages. */
  messagesTableBytes: number;
}

/**
 * Seeds sessions and messages with set-based SQL, one statement per round. Each round gives
 * every ordinary session its next message and the long session its next slice, shuffled, so
 * rows land on disk interleaved the way live traffic writes them: a session's history is spread
 * over many heap pages, not packed together as a session-by-session load would leave it. Two
 * connections run rounds side by side, which interleaves them further.
 *
 * The seeding connections use `synchronous_commit = off` (a bulk load: a crash would just mean
 * seeding again). The workloads run with the server default (on).
 */
export async function seed(url: string, shape: DatasetShape, log: (line: string) => void): Promise<SeedReport> {
  const started = performance.now();
  const corpus = makeCorpus();
  const contents = Array.from({ length: CONTENT_POOL }, () => randomContent(corpus));
  const clients = await Promise.all(Array.from({ length: SEEDING_CONNECTIONS }, () => seedingClient(url, contents)));
  const [client] = clients as [pg.Client];
  try {
    // The full-text GIN index (unused by the benchmarked paths) is rebuilt once at the end, which
    // costs a fraction of maintaining it row by row. The B-tree indexes that history and append
    // use are maintained row by row, so they carry the page splits a live table has.
    const ginIndexes = (
      await client.query<{ name: string; definition: string }>(
        `select indexrelid::regclass::text as name, pg_get_indexdef(indexrelid) as definition
         from pg_index join pg_class on pg_class.oid = indexrelid join pg_am on pg_am.oid = pg_class.relam
         where indrelid = 'chat_messages'::regclass and amname = 'gin'`,
      )
    ).rows;
    for (const { name } of ginIndexes) await client.query(`drop index ${name}`);

    const rounds = shape.messagesPerSession;
    const bigPerRound = Math.ceil(shape.bigSessionMessages / rounds);
    const big = bigSessionIndex(shape);
    const perRound = shape.sessions + bigPerRound;
    // History spans the last 30 days; each message gets a later timestamp than the one before.
    const base = new Date(Date.now() - 30 * 24 * 3_600_000);
    const stepMs = Math.floor((30 * 24 * 3_600_000) / (rounds * perRound));

    await client.query(
      `insert into chat_sessions (id, anonymous_id, title, created_at, last_activity_at)
       select ${sessionIdSql('i')}, ${ownerIdSql('i')}, 'Bench session ' || i, $1::timestamptz, $1::timestamptz
       from generate_series(0, $2::int) i`,
      [new Date(base.getTime() - 60_000), big],
    );

    let nextRound = 1;
    let done = 0;
    const seedRounds = async (connection: pg.Client) => {
      for (let round = nextRound++; round <= rounds; round = nextRound++) {
        await connection.query(
          `with picked as (
             select i, random() as shuffle from generate_series(0, $2::int - 1) i
             union all
             select $3::int, random() from generate_series(1, $4::int)
           ), ordered as (
             select i,
                    row_number() over (order by shuffle) as k,
                    row_number() over (partition by i order by shuffle) as n
             from picked
           ), rows as (
             select i, k,
                    case when i = $3::int then ($1::int - 1) * $4::int + n else $1::int end as seq,
                    $5::timestamptz + ((($1::int - 1) * $6::int + k) * $7::int) * interval '1 millisecond' as at,
                    ($1::int * 1000003 + k) as h
             from ordered
           )
           insert into chat_messages (id, session_id, seq, role, content, created_at, updated_at)
           select
             -- UUIDv7 from the message's timestamp, as the API's uuidv7() makes them.
             encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
               placing substring(int8send(floor(extract(epoch from at) * 1000)::bigint) from 3) from 1 for 6),
               52, 1), 53, 1), 'hex')::uuid,
             ${sessionIdSql('i')},
             seq,
             case when seq % 2 = 1 then 'user' else 'assistant' end,
             c.body,
             at, at
           from rows join bench_contents c on c.id = (rows.h * 7919) % ${CONTENT_POOL}
           where seq <= case when i = $3::int then $8::int else $1::int end
           order by k`,
          [round, shape.sessions, big, bigPerRound, base, perRound, stepMs, shape.bigSessionMessages],
        );
        done += 1;
        if (done % 10 === 0 || done === rounds) {
          log(`  seeded round ${done}/${rounds} (${Math.round((performance.now() - started) / 1000)} s)`);
        }
      }
    };
    await Promise.all(clients.map(seedRounds));

    // Counters as the append path keeps them: last_seq = message_count = number of messages.
    await client.query(
      `update chat_sessions s
       set last_seq = m.n, message_count = m.n, last_message_at = m.last_at, last_activity_at = m.last_at
       from (select session_id, count(*) as n, max(created_at) as last_at from chat_messages group by session_id) m
       where m.session_id = s.id`,
    );
    for (const { definition } of ginIndexes) await client.query(definition);
    // Statistics and a visibility map, as autovacuum would have them on a live table.
    await client.query('vacuum (analyze) chat_messages, chat_sessions');
    await client.query('checkpoint');

    const [counts] = (
      await client.query<{ messages: string; sessions: string; bytes: string }>(
        `select (select count(*) from chat_messages) as messages, (select count(*) from chat_sessions) as sessions,
                pg_total_relation_size('chat_messages') as bytes`,
      )
    ).rows;
    return {
      messages: Number(counts!.messages),
      sessions: Number(counts!.sessions),
      seconds: (performance.now() - started) / 1000,
      messagesTableBytes: Number(counts!.bytes),
    };
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}

async function seedingClient(url: string, contents: string[]): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('set synchronous_commit = off');
  // For the GIN rebuild and the VACUUM at the end.
  await client.query(`set maintenance_work_mem = '512MB'`);
  // The seeded rows are consistent by construction, so their foreign-key triggers are skipped.
  await client.query('set session_replication_role = replica');
  // A pool of contents to pick from; slicing one long text per row in SQL would walk it each time.
  await client.query(
    `create temporary table bench_contents as
     select ordinality::int - 1 as id, body from unnest($1::text[]) with ordinality as body`,
    [contents],
  );
  return client;
}
