import { ZMessageIdInput, ZRestoreMessageOutput, ZUndoClearInput, ZUndoClearOutput } from '@threadstore/contract';
import { restoreMessage, undoClear as undoClearMessages } from '@threadstore/domain';
import { actorOf } from '../../trpc/context.ts';
import { principalProcedure } from '../../trpc/init.ts';

export const restore = principalProcedure
  .input(ZMessageIdInput)
  .output(ZRestoreMessageOutput)
  .mutation(({ ctx, input }) => restoreMessage(ctx.em, actorOf(ctx), input.id));

export const undoClear = principalProcedure
  .input(ZUndoClearInput)
  .output(ZUndoClearOutput)
  .mutation(({ ctx, input }) => undoClearMessages(ctx.em, actorOf(ctx), input.clearId));
