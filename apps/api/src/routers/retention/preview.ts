import { ZPreviewRetentionInput, ZPreviewRetentionOutput } from '@threadstore/contract';
import { normalizePolicy } from '@threadstore/domain';
import { runJobNow } from '../../admin/jobs.ts';
import { actorOf } from '../../trpc/context.ts';
import { adminProcedure } from '../../trpc/init.ts';
import { jobQueueOf } from '../admin/job-queue-of.ts';

/**
 * What retention would delete if `changes` were made: queues the retention job's own dry run
 * with them (the same counting SQL as a real run; nothing changes). Its receipt is in
 * `admin.listRuns({ job: 'retention' })` once a worker has run it.
 */
export const preview = adminProcedure
  .input(ZPreviewRetentionInput)
  .output(ZPreviewRetentionOutput)
  .mutation(async ({ ctx, input }) => {
    for (const change of input.changes) normalizePolicy(change);
    const { queueJobId } = await runJobNow(ctx.em, actorOf(ctx), jobQueueOf(ctx), {
      job: 'retention',
      dryRun: true,
      payload: { preview: input.changes },
    });
    return { job: 'retention' as const, queueJobId };
  });
