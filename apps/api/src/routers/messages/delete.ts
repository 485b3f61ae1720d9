import {
  ZClearMessagesInput,
  ZClearMessagesOutput,
  ZDeleteMessageOutput,
  ZMessageIdInput,
} from '@threadstore/contract';
import { clearMessages, deleteMessage } from '@threadstore/domain';
import { actorOf } from '../../trpc/context.ts';
import { principalProcedure } from '../../trpc/init.ts';

/** `delete` is a reserved word, so the procedure's variable cannot carry its name. */
export const deleteOne = principalProcedure
  .input(ZMessageIdInput)
  .output(ZDeleteMessageOutput)
  .mutation(({ ctx, input }) => deleteMessage(ctx.em, actorOf(ctx), input.id));

export const clear = principalProcedure
  .input(ZClearMessagesInput)
  .output(ZClearMessagesOutput)
  .mutation(({ ctx, input }) => clearMessages(ctx.em, actorOf(ctx), input));
