import * as z from 'zod';
import { defineJob } from '../define.ts';

export const statsPayload = z.object({
  /** Product figures cover this many UTC days, today included. */
  windowDays: z.number().int().min(1).max(90).default(7),
  /** How many of pg_stat_statements' costliest statements the snapshot keeps. */
  topStatements: z.number().int().min(1).max(100).default(10),
  /** Snapshots older than this are deleted, so an hourly job does not grow its table forever. */
  keepSnapshotsDays: z.number().int().min(1).max(3_650).default(90),
});
export type StatsPayload = z.output<typeof statsPayload>;

export const statsJob = defineJob({
  name: 'stats',
  description:
    'Snapshots table and index sizes, dead tuples, index usage, connections, top statements and product ' +
    'figures (sessions, messages, active users, tokens and cost per day and model) into stats_snapshots.',
  payload: statsPayload,
  // A missed snapshot is replaced by the next hour's, so one retry is enough.
  queue: { expireInSeconds: 300, retryLimit: 1, retryDelay: 60 },
  schedule: { cron: '0 * * * *' },
});
