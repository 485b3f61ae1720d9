import { ZStatsSeriesInput, ZStatsSeriesOutput } from '@threadstore/contract';
import { statsSeries as readStatsSeries } from '@threadstore/domain';
import { adminProcedure } from '../../trpc/init.ts';

/** The stats snapshots of a range as chart series: sizes and dead tuples over time, product figures per day and model. */
export const statsSeries = adminProcedure
  .input(ZStatsSeriesInput)
  .output(ZStatsSeriesOutput)
  .query(({ ctx, input }) => readStatsSeries(ctx.em, input));
