import { KNOWLEDGE_CHUNK_CHARS } from '@threadstore/db';
import { generateApiKey, hashApiKey } from '@threadstore/domain';
import pg from 'pg';

export interface Shape {
  /** Ordinary knowledge entries (about 2.4 KB each), all of one owner: the worst case for ranking. */
  entries: number;
  /** Sizes in MB of the long documents added to them. */
  bigEntriesMb: number[];
  memoryUsers: number;
  memoriesPerUser: number;
  /** Users of the memory benchmark who get an API key (requests pick among them). */
  keyedMemoryUsers: number;
  /** Messages of the one searching user, in sessions of 1,000. */
  searcherMessages: number;
  /** Messages of everyone else (100 per session, 10 sessions per user), in the same search index. */
  otherMessages: number;
}

export const FULL_SHAPE: Shape = {
  entries: 100_000,
  bigEntriesMb: [1, 1, 2, 2, 3, 3, 4, 4, 5, 5],
  memoryUsers: 10_000,
  memoriesPerUser: 100,
  keyedMemoryUsers: 500,
  searcherMessages: 100_000,
  otherMessages: 900_000,
};
export const QUICK_SHAPE: Shape = {
  entries: 5_000,
  bigEntriesMb: [1, 5],
  memoryUsers: 500,
  memoriesPerUser: 100,
  keyedMemoryUsers: 100,
  searcherMessages: 10_000,
  otherMessages: 90_000,
};

/** The synthetic vocabulary: `lex<n>`, n < VOCABULARY, drawn skewed (n = VOCABULARY·u³) so low n are common. */
export const VOCABULARY = 50_000;
const WORD = `'lex' || floor(${VOCABULARY} * random() ^ 3)::int`;

/**
 * The full-text slices of every entry, KNOWLEDGE_CHUNK_CHARS ($1) characters each (exported so a
 * data set seeded with another slice size can be sliced again).
 */
export const INDEX_CHUNKS = `insert into knowledge_chunks (entry_id, ordinal, owner_id, project_id, language, start_char, length_chars, search_vector)
   select e.id, s.n, e.owner_id, e.project_id, e.language, s.n * $1::int,
          least($1::int, greatest(l.chars - s.n * $1::int, 0)),
          case when s.n = 0 then setweight(to_tsvector('english'::regconfig, e.title), 'A') else ''::tsvector end
          || setweight(to_tsvector('english'::regconfig, substr(e.content, s.n * $1::int + 1, $1::int)), 'D')
     from knowledge_entries e
    -- The body's length once per entry (OFFSET 0 keeps the planner from inlining it into every
    -- slice, which would read a 5 MB body a thousand times).
    cross join lateral (select length(e.content) as chars offset 0) l
    cross join lateral generate_series(0, greatest((l.chars - 1) / $1::int, 0)) as s(n)`;

export interface Seeded {
  knowledgeOwner: { id: string; apiKey: string };
  memoryUsers: { id: string; apiKey: string }[];
  messageSearcher: { id: string; apiKey: string };
  entries: number;
  chunks: number;
  memories: number;
  messages: number;
  searcherMessages: number;
  seconds: number;
}

/**
 * Set-based seeding (generate_series), the same rows the API would write: entries in English with
 * their full-text slices (KNOWLEDGE_CHUNK_CHARS characters each, the title weighted A in the first), and
 * memories as current first versions. Slices here are cut at fixed offsets, not at whitespace
 * as the API cuts them: a word split at a boundary only affects the seeded long documents.
 */
export async function seed(url: string, shape: Shape, log: (line: string) => void): Promise<Seeded> {
  const started = performance.now();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const one = async <Row extends pg.QueryResultRow>(sql: string, params: unknown[] = []) =>
      (await client.query<Row>(sql, params)).rows;
    const [owner] = await one<{ id: string }>(
      `insert into users (issuer, subject) values ('bench', 'knowledge-owner') returning id`,
    );
    const ownerId = owner!.id;
    // Random words are the slow part of seeding; a pool of paragraphs drawn once, combined per
    // entry (two paragraphs and a few words of its own), gives the same word frequencies.
    log(`seeding ${shape.entries} knowledge entries…`);
    await one(`create temporary table paragraphs as
      select p, (select string_agg(${WORD}, ' ') from generate_series(1, 125 + p % 20)) as text
        from generate_series(0, 1999) p`);
    await one(
      `insert into knowledge_entries (owner_id, title, content, source_type, language, tags, created_at)
       select $1, (select string_agg(${WORD}, ' ') from generate_series(1, 4 + g % 3)),
              a.text || ' ' || b.text || ' ' || (select string_agg(${WORD}, ' ') from generate_series(1, 10 + g % 3)),
              'text', 'english', array['t' || (g % 20)], now() - make_interval(secs => g)
         from generate_series(1, $2::int) g
         join paragraphs a on a.p = (g * 7919) % 2000
         join paragraphs b on b.p = (g::bigint * 104729 + 1) % 2000`,
      [ownerId, shape.entries],
    );
    log(`seeding ${shape.bigEntriesMb.length} long documents…`);
    for (const mb of shape.bigEntriesMb) {
      await one(
        `insert into knowledge_entries (owner_id, title, content, source_type, language)
         select $1, 'Long document ' || $2, string_agg(p.text, ' ' order by g), 'text', 'english'
           from generate_series(1, $2::int * 1024 * 1024 / 1150) g join paragraphs p on p.p = (g * 7919 + $2::int) % 2000`,
        [ownerId, mb],
      );
    }
    log('indexing the entries (full-text slices)…');
    await one(INDEX_CHUNKS, [KNOWLEDGE_CHUNK_CHARS]);

    log(`seeding ${shape.memoryUsers * shape.memoriesPerUser} memories of ${shape.memoryUsers} users…`);
    await one(
      `insert into users (issuer, subject) select 'bench', 'memory-user-' || g from generate_series(1, $1::int) g`,
      [shape.memoryUsers],
    );
    await one(`create temporary table facts as
      select f, (select string_agg(${WORD}, ' ') from generate_series(1, 6 + f % 8)) as text from generate_series(0, 4095) f`);
    await one(
      `insert into memories (user_id, kind, subject, content, importance, language, valid_from, created_at)
       select u.id, 'long_term', 'user',
              'fact ' || n || ': ' || f.text,
              round((random())::numeric, 3), 'english', now() - make_interval(hours => n * 7), now() - make_interval(hours => n * 7)
         from users u cross join generate_series(1, $1::int) n
         join facts f on f.f = (hashtext(u.id::text)::bigint + n * 7919) & 4095
        where u.issuer = 'bench' and u.subject like 'memory-user-%'`,
      [shape.memoriesPerUser],
    );

    const searcherId = await seedMessages(one, shape, log);

    const keyed = await one<{ id: string }>(
      `select id from users where issuer = 'bench' and subject like 'memory-user-%' order by subject limit $1`,
      [shape.keyedMemoryUsers],
    );
    const keyOf = async (userId: string) => {
      const key = generateApiKey();
      await one(
        `insert into api_keys (user_id, name, key_prefix, key_hash, scopes) values ($1, 'bench', $2, $3, '{read,write}')`,
        [userId, key.slice(0, 8), hashApiKey(key)],
      );
      return key;
    };
    const knowledgeOwner = { id: ownerId, apiKey: await keyOf(ownerId) };
    const messageSearcher = { id: searcherId, apiKey: await keyOf(searcherId) };
    const memoryUsers: { id: string; apiKey: string }[] = [];
    for (const { id } of keyed) memoryUsers.push({ id, apiKey: await keyOf(id) });
    log('analyze…');
    await one('analyze');
    const [counts] = await one<{ entries: number; chunks: number; memories: number; messages: number }>(
      `select (select count(*)::int from knowledge_entries) as entries, (select count(*)::int from knowledge_chunks) as chunks,
              (select count(*)::int from memories) as memories, (select count(*)::int from chat_message_search) as messages`,
    );
    return {
      knowledgeOwner,
      memoryUsers,
      messageSearcher,
      ...counts!,
      searcherMessages: shape.searcherMessages,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await client.end();
  }
}

/**
 * Conversations for messages.search: one user with `searcherMessages` messages (sessions of 1,000)
 * among everyone else's `otherMessages` (users of 10 sessions of 100), all indexed as the worker's
 * search indexer indexes them (chat_message_search, 'simple' configuration). Message texts
 * combine two sentences of a pool drawn once from the same skewed vocabulary.
 */
async function seedMessages(
  one: (sql: string, params?: unknown[]) => Promise<{ id: string }[]>,
  shape: Shape,
  log: (line: string) => void,
): Promise<string> {
  log(`seeding ${shape.searcherMessages + shape.otherMessages} messages…`);
  await one(`create temporary table sentences as
    select f, (select string_agg(${WORD}, ' ') from generate_series(1, 8 + f % 16)) as text from generate_series(0, 4095) f`);
  const [searcher] = await one(`insert into users (issuer, subject) values ('bench', 'message-searcher') returning id`);
  const others = Math.ceil(shape.otherMessages / 1_000);
  await one(
    `insert into users (issuer, subject) select 'bench', 'message-user-' || g from generate_series(1, $1::int) g`,
    [others],
  );
  await one(
    `insert into chat_sessions (user_id, title, last_seq, message_count)
     select $1::uuid, 'searcher ' || g, 1000, 1000 from generate_series(1, $2::int) g
     union all
     select u.id, 'other ' || g, 100, 100 from users u cross join generate_series(1, 10) g
      where u.issuer = 'bench' and u.subject like 'message-user-%'`,
    [searcher!.id, Math.ceil(shape.searcherMessages / 1_000)],
  );
  await one(
    `insert into chat_messages (session_id, seq, role, content, created_at)
     select s.id, n, case when n % 2 = 0 then 'assistant' else 'user' end, a.text || ' ' || b.text,
            now() - make_interval(mins => (s.last_seq - n)::int)
       from chat_sessions s cross join lateral generate_series(1, s.last_seq) n
       join sentences a on a.f = (hashtext(s.id::text)::bigint + n * 7919) & 4095
       join sentences b on b.f = (hashtext(s.id::text)::bigint * 31 + n * 104729) & 4095
      where s.title like 'searcher %' or s.title like 'other %'`,
  );
  await one(
    `insert into chat_message_search (message_id, session_id, search_vector)
     select m.id, m.session_id, to_tsvector('simple'::regconfig, m.content) from chat_messages m`,
  );
  return searcher!.id;
}
