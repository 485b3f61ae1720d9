import { FTS_SOURCE_CHARS, type EntityManager } from '@threadstore/db';
import { query } from './sql.ts';

/**
 * One batch of the search indexer, as one statement (one short transaction):
 *  1. `interactive` takes up to $1 queued ids that no bulk import queued (appends, edits, the
 *     conversation loop's answers), oldest first, from the small partial index that lists only
 *     them; `backlog` fills the rest of the batch with a bulk import's ids, oldest first. So a
 *     message someone just wrote waits for at most the batch in progress, never behind an
 *     import's backlog: taking the queue oldest first, an append made during a 200,000-message
 *     import waited behind all of it (18–24 s), and taking half from each end it still waited
 *     once 81.8 s, sitting between imported ids newer and older than it (ids are UUIDv7, taken
 *     when a line is parsed; bench/results/import-2026-12-07.md). Both skip ids another indexer
 *     has locked, so any number of indexers (the worker's loops, a manual job run) drain side by
 *     side without taking the same id twice or waiting on each other.
 *  2. `indexed` computes their vectors and stores them. A message deleted (or purged) before its
 *     turn is left out: it would never be shown. A re-queued id is indexed again (an edit, or the
 *     conversation loop re-queueing an answer once it is final).
 * A batch that fails (a vector over PostgreSQL's 1 MB limit cannot happen: the text is cut at
 * FTS_SOURCE_CHARS) rolls back whole, its ids still queued.
 */
const INDEX_BATCH = `
  with interactive as (
    select message_id from chat_message_search_queue where not bulk
     order by message_id limit $1::int for update skip locked
  ), backlog as (
    -- LIMIT 0 (the batch is full of interactive ids) reads nothing.
    select message_id from chat_message_search_queue where bulk
     order by message_id limit $1::int - (select count(*) from interactive) for update skip locked
  ), batch as (
    delete from chat_message_search_queue q
     where q.message_id in (select message_id from interactive union all select message_id from backlog)
    returning q.message_id
  ), indexed as (
    -- One primary-key probe per id: the LIMIT keeps the lateral subquery from being flattened
    -- into a join, for which the planner (expecting more ids than a batch holds) hashed the
    -- whole of chat_messages on every batch (~55 ms a batch with 60,000 messages stored).
    insert into chat_message_search (message_id, session_id, search_vector)
    select m.id, m.session_id, to_tsvector('simple'::regconfig, left(m.content, ${FTS_SOURCE_CHARS}))
      from batch cross join lateral (
        select m.id, m.session_id, m.content from chat_messages m
         where m.id = batch.message_id and m.deleted_at is null
         limit 1) m
    -- A message queued again (an answer the conversation loop finished writing) is re-indexed.
    on conflict (message_id) do update set search_vector = excluded.search_vector
    returning 1
  )
  select (select count(*) from batch)::int as taken, (select count(*) from indexed)::int as indexed`;

export interface IndexedBatch {
  /** Ids taken off the queue. */
  taken: number;
  /** Of them, messages now searchable (the rest were deleted meanwhile). */
  indexed: number;
}

/** Indexes up to `batchSize` queued messages for search; `taken < batchSize` means the queue was drained. */
export async function indexQueuedMessages(em: EntityManager, batchSize: number): Promise<IndexedBatch> {
  const [row] = await query<IndexedBatch>(em, INDEX_BATCH, [batchSize]);
  return row!;
}

/**
 * Drains the queue batch by batch until a batch comes back short or `signal` is aborted, and
 * returns the totals. Messages appended meanwhile are taken too, as long as the queue keeps up.
 */
export async function drainSearchQueue(
  em: EntityManager,
  { batchSize, signal }: { batchSize: number; signal?: AbortSignal },
): Promise<IndexedBatch & { batches: number }> {
  const total = { taken: 0, indexed: 0, batches: 0 };
  while (signal?.aborted !== true) {
    const batch = await indexQueuedMessages(em, batchSize);
    total.taken += batch.taken;
    total.indexed += batch.indexed;
    total.batches += 1;
    if (batch.taken < batchSize) break;
  }
  return total;
}
