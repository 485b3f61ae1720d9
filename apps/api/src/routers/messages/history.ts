import { ZMessageHistory, ZMessageHistoryInput } from '@threadstore/contract';
import { messageHistory, ownerOf } from '@threadstore/domain';
import { principalProcedure } from '../../trpc/init.ts';

export const history = principalProcedure
  .input(ZMessageHistoryInput)
  .output(ZMessageHistory)
  .query(({ ctx, input }) => messageHistory(ctx.em, ownerOf(ctx.principal), input, ctx.limits));
