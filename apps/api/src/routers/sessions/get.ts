import { ZSession, ZSessionIdInput } from '@threadstore/contract';
import { getSession, ownerOf } from '@threadstore/domain';
import { principalProcedure } from '../../trpc/init.ts';

export const get = principalProcedure
  .input(ZSessionIdInput)
  .output(ZSession)
  .query(({ ctx, input }) => getSession(ctx.em, ownerOf(ctx.principal), input.id));
