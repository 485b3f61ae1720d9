import { ZMessage, ZMessageIdInput } from '@threadstore/contract';
import { getMessage, ownerOf } from '@threadstore/domain';
import { principalProcedure } from '../../trpc/init.ts';

export const get = principalProcedure
  .input(ZMessageIdInput)
  .output(ZMessage)
  .query(({ ctx, input }) => getMessage(ctx.em, ownerOf(ctx.principal), input.id));
