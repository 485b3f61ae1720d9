import { ZRunJobInput, ZRunJobOutput } from '@threadstore/contract';
import { runJobNow } from '../../admin/jobs.ts';
import { actorOf } from '../../trpc/context.ts';
import { adminProcedure } from '../../trpc/init.ts';
import { jobQueueOf } from './job-queue-of.ts';

/** Queues a run of one job now (a dry run where the job has one); a worker picks it up. */
export const runJob = adminProcedure
  .input(ZRunJobInput)
  .output(ZRunJobOutput)
  .mutation(({ ctx, input }) => runJobNow(ctx.em, actorOf(ctx), jobQueueOf(ctx), input));
