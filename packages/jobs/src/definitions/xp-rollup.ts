import * as z from 'zod';
import { defineJob } from '../define.ts';

export const xpRollupPayload = z.object({
  // `rebuild` recomputes every learner from the whole ledger (after a mission's criteria change).
  mode: z.enum(['incremental', 'rebuild']).default('incremental'),
  dryRun: z.boolean().default(false),
  batchSize: z.number().int().min(1).max(100_000).default(10_000),
  learnersPerBatch: z.number().int().min(1).max(10_000).default(1_000),
});
export type XpRollupPayload = z.output<typeof xpRollupPayload>;

export const xpRollupJob = defineJob({
  name: 'xp-rollup',
  description: "Folds new academy XP ledger rows into learners' totals, levels, streaks, missions, rewards and badges.",
  payload: xpRollupPayload,
  queue: {
    // A rebuild of a large ledger can take minutes. Batches commit as they go, so a run that
    // expires or fails is resumed by its retry (or the next tick), not started over.
    expireInSeconds: 15 * 60,
    retryLimit: 3,
    retryDelay: 30,
    retryBackoff: true,
    retryDelayMax: 600,
    // 288 runs a day: two days of completed jobs is plenty to look back on.
    deleteAfterSeconds: 2 * 24 * 3600,
  },
  schedule: { cron: '*/5 * * * *' },
});
