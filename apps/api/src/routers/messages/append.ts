import {
  ZAppendManyMessagesInput,
  ZAppendManyMessagesOutput,
  ZAppendMessageInput,
  ZMessage,
} from '@threadstore/contract';
import { appendMessage, appendMessages } from '@threadstore/domain';
import { actorOf } from '../../trpc/context.ts';
import { principalProcedure } from '../../trpc/init.ts';

export const append = principalProcedure
  .input(ZAppendMessageInput)
  .output(ZMessage)
  // Announced to change feeds after the commit, not by the session trigger inside it (see
  // ChangeFeed.announcer): a notifying commit serializes every other one on the server.
  .mutation(({ ctx, input }) =>
    appendMessage(ctx.em, actorOf(ctx), input, ctx.limits, { announce: ctx.live?.feed.announcer() }),
  );

export const appendMany = principalProcedure
  .input(ZAppendManyMessagesInput)
  .output(ZAppendManyMessagesOutput)
  .mutation(async ({ ctx, input }) => ({
    items: await appendMessages(ctx.em, actorOf(ctx), input, ctx.limits, { announce: ctx.live?.feed.announcer() }),
  }));
