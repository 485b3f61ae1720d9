import * as z from 'zod';
import { defineJob } from '../define.ts';

export const searchIndexPayload = z.object({
  /** Messages indexed per transaction. */
  batchSize: z.number().int().min(1).max(50_000).default(5_000),
});
export type SearchIndexPayload = z.output<typeof searchIndexPayload>;

/**
 * The backstop and the operator's handle for the search indexer: the worker's own loop
 * (search-indexer.ts) drains the queue every second; this job does the same once a minute with a
 * receipt, and `pnpm jobs run search-index` drains it on demand. Both may run at once: batches
 * take queued ids with SKIP LOCKED.
 */
export const searchIndexJob = defineJob({
  name: 'search-index',
  description:
    'Indexes messages queued by appends for full-text search (messages.search), in batches, until the queue is empty.',
  payload: searchIndexPayload,
  queue: { expireInSeconds: 600, retryLimit: 2, retryDelay: 10, retryBackoff: true },
  schedule: { cron: '* * * * *' },
});
