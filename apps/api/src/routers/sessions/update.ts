import { ZSession, ZUpdateSessionInput } from '@threadstore/contract';
import { updateSession } from '@threadstore/domain';
import { actorOf } from '../../trpc/context.ts';
import { principalProcedure } from '../../trpc/init.ts';

export const update = principalProcedure
  .input(ZUpdateSessionInput)
  .output(ZSession)
  .mutation(({ ctx, input }) => updateSession(ctx.em, actorOf(ctx), input, ctx.limits));
