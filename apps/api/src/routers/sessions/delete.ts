import { ZPurgeSessionOutput, ZSession, ZSessionIdInput } from '@threadstore/contract';
import { deleteSession, purgeSession, restoreSession } from '@threadstore/domain';
import { actorOf } from '../../trpc/context.ts';
import { principalProcedure } from '../../trpc/init.ts';

/** Moves the session to the bin (`sessions.delete`); restore brings it back, purge ends it. */
export const softDelete = principalProcedure
  .input(ZSessionIdInput)
  .output(ZSession)
  .mutation(({ ctx, input }) => deleteSession(ctx.em, actorOf(ctx), input.id));

export const restore = principalProcedure
  .input(ZSessionIdInput)
  .output(ZSession)
  .mutation(({ ctx, input }) => restoreSession(ctx.em, actorOf(ctx), input.id));

/** Removes the session and every message in it for good, whether it is in the bin or not. */
export const purge = principalProcedure
  .input(ZSessionIdInput)
  .output(ZPurgeSessionOutput)
  .mutation(({ ctx, input }) => purgeSession(ctx.em, actorOf(ctx), input.id));
