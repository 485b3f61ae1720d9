import {
  ZCreateSessionInput,
  ZGetOrCreateSessionInput,
  ZGetOrCreateSessionOutput,
  ZSession,
} from '@threadstore/contract';
import { createSession, getOrCreateSession } from '@threadstore/domain';
import { actorOf } from '../../trpc/context.ts';
import { principalProcedure } from '../../trpc/init.ts';

export const create = principalProcedure
  .input(ZCreateSessionInput)
  .output(ZSession)
  .mutation(({ ctx, input }) => createSession(ctx.em, actorOf(ctx), input, ctx.limits));

/** Idempotent by `clientKey`: every call, concurrent ones included, returns the same session. */
export const getOrCreate = principalProcedure
  .input(ZGetOrCreateSessionInput)
  .output(ZGetOrCreateSessionOutput)
  .mutation(({ ctx, input }) => getOrCreateSession(ctx.em, actorOf(ctx), input, ctx.limits));
