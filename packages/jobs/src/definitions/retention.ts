import { ZRetentionChange } from '@threadstore/contract';
import * as z from 'zod';
import { defineJob } from '../define.ts';

export const retentionPayload = z
  .object({
    /** Counts what a real run would delete, per target and policy, and deletes nothing. */
    dryRun: z.boolean().default(false),
    /**
     * The most rows one transaction deletes (sessions and messages alike), and the number of
     * sessions examined per window. Each batch commits on its own, so no lock is held for long.
     */
    batchSize: z.number().int().min(1).max(10_000).default(5_000),
    /**
     * After each batch of the heap sweeps the run idles for this many times the batch's own time:
     * 0 runs flat out; 1 leaves the server half of the time it would have taken, for the API.
     */
    pause: z.number().min(0).max(20).default(1),
    /**
     * `auto` compresses the full-page images the run's batches write into the WAL (nearly all of
     * its WAL: a sweep dirties pages scattered through the heap) with lz4, else zstd, when the
     * server was built with either and the worker's role may set `wal_compression` (a superuser,
     * or `GRANT SET ON PARAMETER wal_compression`); only for its own transactions. `off` never does.
     */
    walCompression: z.enum(['auto', 'off']).default('auto'),
    /**
     * With `dryRun`: policy changes to count as if they were made (admin `retention.preview`,
     * `pnpm jobs policy preview`). They are applied in a transaction that is rolled back.
     */
    preview: z.array(ZRetentionChange).max(50).default([]),
  })
  .refine((payload) => payload.preview.length === 0 || payload.dryRun, {
    message: 'preview needs dryRun: it never changes the policies',
    path: ['preview'],
  });
export type RetentionPayload = z.output<typeof retentionPayload>;

export const retentionJob = defineJob({
  name: 'retention',
  description:
    'Deletes what the retention policies say has expired: inactive, soft-deleted and unclaimed anonymous ' +
    'sessions with their messages, soft-deleted messages, and expired short-term and episodic memories.',
  payload: retentionPayload,
  queue: {
    // A run stops between batches when aborted, so expiry only bounds how long a stuck run lingers.
    expireInSeconds: 3_600,
    // A killed worker's run is retried within a couple of minutes rather than after the expiry.
    heartbeatSeconds: 60,
    retryLimit: 3,
    retryDelay: 300,
    retryBackoff: true,
  },
  // At night UTC; vacuum-analyze is scheduled half an hour later to clean up after it.
  schedule: { cron: '0 3 * * *' },
});
