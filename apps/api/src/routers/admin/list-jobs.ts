import { ZListJobsOutput } from '@threadstore/contract';
import { listJobs as listJobsWithRuns } from '../../admin/jobs.ts';
import { adminProcedure } from '../../trpc/init.ts';
import { jobQueueOf } from './job-queue-of.ts';

/** Every worker job, its registered schedule and its latest run. */
export const listJobs = adminProcedure
  .output(ZListJobsOutput)
  .query(async ({ ctx }) => ({ jobs: await listJobsWithRuns(ctx.em, jobQueueOf(ctx)) }));
