import { ZLatestStatsOutput } from '@threadstore/contract';
import { latestStatsSnapshot } from '@threadstore/domain';
import { adminProcedure } from '../../trpc/init.ts';

/** The newest snapshot the stats job took, or null before its first run. */
export const latestStats = adminProcedure
  .output(ZLatestStatsOutput)
  .query(async ({ ctx }) => ({ snapshot: await latestStatsSnapshot(ctx.em) }));
