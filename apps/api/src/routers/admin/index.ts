import type { TRPCRouterRecord } from '@trpc/server';
import { latestStats } from './latest-stats.ts';
import { listJobs } from './list-jobs.ts';
import { listRuns } from './list-runs.ts';
import { runJob } from './run-job.ts';
import { statsSeries } from './stats-series.ts';

export const adminRouter = { listJobs, runJob, listRuns, latestStats, statsSeries } satisfies TRPCRouterRecord;
