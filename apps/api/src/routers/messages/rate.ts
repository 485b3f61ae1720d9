import { ZRateMessageInput, ZRateMessageOutput } from '@threadstore/contract';
import { rateMessage } from '@threadstore/domain';
import { actorOf } from '../../trpc/context.ts';
import { principalProcedure } from '../../trpc/init.ts';

export const rate = principalProcedure
  .input(ZRateMessageInput)
  .output(ZRateMessageOutput)
  .mutation(({ ctx, input }) => rateMessage(ctx.em, actorOf(ctx), input, ctx.limits));
