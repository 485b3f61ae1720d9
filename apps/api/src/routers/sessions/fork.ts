import { ZForkSessionInput, ZForkSessionOutput } from '@threadstore/contract';
import { forkSession } from '@threadstore/domain';
import { actorOf } from '../../trpc/context.ts';
import { principalProcedure } from '../../trpc/init.ts';

export const fork = principalProcedure
  .input(ZForkSessionInput)
  .output(ZForkSessionOutput)
  .mutation(({ ctx, input }) => forkSession(ctx.em, actorOf(ctx), input, ctx.limits));
