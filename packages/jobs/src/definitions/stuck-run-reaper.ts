import * as z from 'zod';
import { defineJob } from '../define.ts';

export const stuckRunReaperPayload = z.object({
  staleAfterMinutes: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60)
    .default(30),
  abandonedRunAfterHours: z
    .number()
    .int()
    .min(2)
    .max(24 * 30)
    .default(6),
  keepRunsDays: z.number().int().min(1).max(3_650).default(90),
  /** Lists what a real run would fail and close, changing nothing. */
  dryRun: z.boolean().default(false),
});
export type StuckRunReaperPayload = z.output<typeof stuckRunReaperPayload>;

export const stuckRunReaperJob = defineJob({
  name: 'stuck-run-reaper',
  description:
    'Fails agent runs left running with no progress, with a reason that says so; closes job-run ' +
    'receipts a dead worker left running and deletes receipts older than keepRunsDays.',
  payload: stuckRunReaperPayload,
  queue: {
    // Two statements; a run that takes minutes is stuck itself and the next tick will do the work.
    expireInSeconds: 120,
    retryLimit: 2,
    retryDelay: 10,
    retryBackoff: true,
  },
  schedule: { cron: '* * * * *' },
});
