import { ZSearchMessagesInput, ZSearchMessagesOutput } from '@threadstore/contract';
import { ownerOf, searchMessages } from '@threadstore/domain';
import { principalProcedure } from '../../trpc/init.ts';

export const search = principalProcedure
  .input(ZSearchMessagesInput)
  .output(ZSearchMessagesOutput)
  .query(({ ctx, input }) => searchMessages(ctx.em, ownerOf(ctx.principal), input, ctx.limits));
