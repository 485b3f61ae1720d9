import { ZLeaderboardInput, ZLeaderboardPage, ZRankInput, ZRankOutput } from '@threadstore/contract';
import { leaderboard as readLeaderboard, leaderboardRank } from '@threadstore/domain';
import { actorOf } from '../../trpc/context.ts';
import { userProcedure } from '../../trpc/init.ts';

/** Top learners, all-time or this week, keyset-paged. */
export const leaderboard = userProcedure
  .input(ZLeaderboardInput)
  .output(ZLeaderboardPage)
  .query(({ ctx, input }) => readLeaderboard(ctx.em, actorOf(ctx), input, ctx.limits));

/** The caller's rank and neighbours. */
export const rank = userProcedure
  .input(ZRankInput)
  .output(ZRankOutput)
  .query(({ ctx, input }) => leaderboardRank(ctx.em, actorOf(ctx), input));
