import { ZSession, ZSessionIdInput } from '@threadstore/contract';
import { archiveSession, unarchiveSession } from '@threadstore/domain';
import { actorOf } from '../../trpc/context.ts';
import { principalProcedure } from '../../trpc/init.ts';

export const archive = principalProcedure
  .input(ZSessionIdInput)
  .output(ZSession)
  .mutation(({ ctx, input }) => archiveSession(ctx.em, actorOf(ctx), input.id));

export const unarchive = principalProcedure
  .input(ZSessionIdInput)
  .output(ZSession)
  .mutation(({ ctx, input }) => unarchiveSession(ctx.em, actorOf(ctx), input.id));
