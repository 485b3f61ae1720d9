import { ZListRunsInput, ZListRunsOutput } from '@threadstore/contract';
import { listMaintenanceRuns, pageSize } from '@threadstore/domain';
import { adminProcedure } from '../../trpc/init.ts';

/** Recent job runs with their receipts, newest first. */
export const listRuns = adminProcedure
  .input(ZListRunsInput)
  .output(ZListRunsOutput)
  .query(({ ctx, input }) =>
    listMaintenanceRuns(ctx.em, { job: input.job, cursor: input.cursor, limit: pageSize(input.limit, ctx.limits) }),
  );
