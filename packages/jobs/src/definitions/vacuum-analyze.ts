import * as z from 'zod';
import { defineJob } from '../define.ts';

export const vacuumAnalyzePayload = z.object({
  /** Reports which tables would be vacuumed, and why, without vacuuming. */
  dryRun: z.boolean().default(false),
  /** Vacuums exactly these tables of the service's schema, whatever their statistics say. */
  tables: z.array(z.string().min(1)).min(1).optional(),
  /** A table qualifies when dead tuples are at least this share of its tuples… */
  minDeadShare: z.number().min(0).max(1).default(0.1),
  /** …and at least this many, so a tiny table with one dead row is left to autovacuum. */
  minDeadTuples: z.number().int().min(0).default(1_000),
  /** Or when this many rows changed since it was last analyzed (stale planner statistics). */
  minModifiedSinceAnalyze: z.number().int().min(0).default(10_000),
  /** How long VACUUM may wait for a table's lock before that table is skipped. */
  lockTimeoutMs: z.number().int().min(1).max(600_000).default(5_000),
});
export type VacuumAnalyzePayload = z.output<typeof vacuumAnalyzePayload>;

export const vacuumAnalyzeJob = defineJob({
  name: 'vacuum-analyze',
  description:
    'Runs VACUUM (ANALYZE) on the tables whose dead tuples or changes since the last ANALYZE call for it, ' +
    'recording dead tuples before and after.',
  payload: vacuumAnalyzePayload,
  // VACUUM of a large table can legitimately take long; an aborted run cancels the one in flight.
  queue: { expireInSeconds: 3_600, heartbeatSeconds: 60, retryLimit: 2, retryDelay: 300, retryBackoff: true },
  /**
   * Half an hour after retention, whose deletions leave the dead tuples this job reclaims. It is
   * scheduled rather than sent by retention: the statistics pick the tables either way, and if
   * retention overruns, tonight's vacuum finds fewer dead tuples and the next night's the rest.
   */
  schedule: { cron: '30 3 * * *' },
});
