import { ZListSessionsInput, ZSessionPage } from '@threadstore/contract';
import { listSessions, ownerOf } from '@threadstore/domain';
import { principalProcedure } from '../../trpc/init.ts';

export const list = principalProcedure
  .input(ZListSessionsInput)
  .output(ZSessionPage)
  .query(({ ctx, input }) => listSessions(ctx.em, ownerOf(ctx.principal), input, ctx.limits));
