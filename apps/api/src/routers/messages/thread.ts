import { ZMessageThread, ZMessageThreadInput } from '@threadstore/contract';
import { messageThread, ownerOf } from '@threadstore/domain';
import { principalProcedure } from '../../trpc/init.ts';

export const thread = principalProcedure
  .input(ZMessageThreadInput)
  .output(ZMessageThread)
  .query(({ ctx, input }) => messageThread(ctx.em, ownerOf(ctx.principal), input, ctx.limits));
