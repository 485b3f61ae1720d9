/**
 * The shape of the seeded data and how the load generator addresses it. Ids are derived from a
 * session's index, so the seeding SQL and the load generator agree on them without a lookup.
 */
export interface DatasetShape {
  /** Ordinary sessions, each owned by its own anonymous visitor. */
  sessions: number;
  messagesPerSession: number;
  /** One long agent session, written interleaved with the others. */
  bigSessionMessages: number;
}

export const FULL_DATASET: DatasetShape = { sessions: 10_000, messagesPerSession: 100, bigSessionMessages: 200_000 };
export const QUICK_DATASET: DatasetShape = { sessions: 2_000, messagesPerSession: 20, bigSessionMessages: 20_000 };

/** The long session comes right after the ordinary ones. */
export const bigSessionIndex = (shape: DatasetShape) => shape.sessions;

// RFC 9562 layout (version 4 nibble, variant 8) so the API's z.uuid() accepts them.
const SESSION_PREFIX = '5e55107f-0000-4000-8000-';
const OWNER_PREFIX = 'a0000000-0000-4000-8000-';

export const sessionId = (index: number) => SESSION_PREFIX + index.toString(16).padStart(12, '0');
export const ownerId = (index: number) => OWNER_PREFIX + index.toString(16).padStart(12, '0');

/** The same derivations in SQL, for set-based seeding. `index` is an SQL expression. */
export const sessionIdSql = (index: string) => `('${SESSION_PREFIX}' || lpad(to_hex(${index}), 12, '0'))::uuid`;
export const ownerIdSql = (index: string) => `('${OWNER_PREFIX}' || lpad(to_hex(${index}), 12, '0'))::uuid`;

export const MIN_CONTENT_CHARS = 200;
export const MAX_CONTENT_CHARS = 800;

/**
 * Prose-like text from a fixed vocabulary (a mulberry32 stream, so every run seeds the same
 * words). Real words matter: the full-text GIN index on messages costs what real text costs,
 * where random hex would make every token unique.
 */
export function makeCorpus(chars = 64 * 1024): string {
  let state = 0x5eed;
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const letters = 'etaoinshrdlucmfwypvbgkjqxz';
  const vocabulary = Array.from({ length: 2_000 }, () => {
    const length = 2 + Math.floor(random() * random() * 10);
    return Array.from({ length }, () => letters[Math.floor(random() * random() * letters.length)]).join('');
  });
  const words: string[] = [];
  let length = 0;
  while (length < chars) {
    // Zipf-like: a few words are everywhere, most are rare, as in real text.
    const word = vocabulary[Math.floor(vocabulary.length * random() ** 3)]!;
    const sentenceEnd = random() < 0.08;
    words.push(sentenceEnd ? `${word}.` : word);
    length += word.length + 1;
  }
  return words.join(' ');
}

/** A random slice of the corpus, MIN_CONTENT_CHARS to MAX_CONTENT_CHARS long. */
export function randomContent(corpus: string): string {
  const length = MIN_CONTENT_CHARS + Math.floor(Math.random() * (MAX_CONTENT_CHARS - MIN_CONTENT_CHARS + 1));
  const start = Math.floor(Math.random() * (corpus.length - length));
  return corpus.slice(start, start + length);
}

/** The API's default content limits, for scripts that call domain functions directly. */
export const BENCH_LIMITS = {
  maxContentBytes: 256 * 1024,
  maxJsonBytes: 64 * 1024,
  maxJsonDepth: 16,
  maxBatchSize: 1_000,
  defaultPageSize: 50,
  maxPageSize: 200,
};
