import { ZChatSendInput, ZChatTurn, ZChatTurnInput } from '@threadstore/contract';
import { actorOf } from '../../trpc/context.ts';
import { principalProcedure } from '../../trpc/init.ts';
import { liveOf } from '../../trpc/subscriptions.ts';

// The conversation loop (see ConversationLoop in @threadstore/domain): the user's message is
// committed before any model is called; the answer is written as it grows.

export const send = principalProcedure
  .input(ZChatSendInput)
  .output(ZChatTurn)
  .mutation(({ ctx, input }) => liveOf(ctx).loop.send(ctx.em, actorOf(ctx), input));

export const cancel = principalProcedure
  .input(ZChatTurnInput)
  .output(ZChatTurn)
  .mutation(({ ctx, input }) => liveOf(ctx).loop.cancel(ctx.em, actorOf(ctx), input.turnId));

export const turn = principalProcedure
  .input(ZChatTurnInput)
  .output(ZChatTurn)
  .query(({ ctx, input }) => liveOf(ctx).loop.turn(ctx.em, actorOf(ctx), input.turnId));
