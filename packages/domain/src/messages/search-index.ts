import { FTS_SOURCE_CHARS, type EntityManager } from '@threadstore/db';
import { query } from './sql.ts';

/**
 * One batch of the search indexer, as one statement (one short transaction):
 *  1. `batch` takes up to $1 queued message ids, half of them the newest and half the oldest,
 *     skipping ids another indexer has locked, so any number of indexers (the worker's loop, a
 *     manual job run) drain side by side without taking the same id twice or waiting on each
 *     other. Why both ends: a bulk import (messages.import, ~24,000 messages a second measured) queues far
 *     more than an indexer takes per second (to_tsvector costs ~90 µs a message), and taken
 *     oldest first, a message appended during the import waited behind the whole backlog (18–24 s
 *     in bench/import). The newest half usually keeps what people are writing now searchable
 *     within a batch or two (not always: an id that falls between newer imported ones waits for
 *     the oldest half; a priority the indexer can see would need a column); the oldest half keeps
 *     the backlog moving, so no message waits for ever (ids are UUIDv7: time-ordered).
 *  2. `indexed` computes their vectors and stores them. A message deleted (or purged) before its
 *     turn is left out: it would never be shown. A re-queued id is indexed again (the conversation loop re-queues an answer once it is final).
 * A batch that fails (a vector over PostgreSQL's 1 MB limit cannot happen: the text is cut at
 * FTS_SOURCE_CHARS) rolls back whole, its ids still queued.
 */
const INDEX_BATCH = `
  with newest as (
    select message_id from chat_message_search_queue
     order by message_id desc limit ($1::int + 1) / 2 for update skip locked
  ), oldest as (
    select message_id from chat_message_search_queue
     order by message_id limit $1::int / 2 for update skip locked
  ), batch as (
    -- The two ends overlap when fewer than $1 are queued: each id is taken once.
    delete from chat_message_search_queue q
     where q.message_id in (select message_id from newest union select message_id from oldest)
    returning q.message_id
  ), indexed as (
    insert into chat_message_search (message_id, session_id, search_vector)
    select m.id, m.session_id, to_tsvector('simple'::regconfig, left(m.content, ${FTS_SOURCE_CHARS}))
      from batch join chat_messages m on m.id = batch.message_id
     where m.deleted_at is null
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
