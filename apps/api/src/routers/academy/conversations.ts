import {
  ZAcademyConversation,
  ZAcademyConversationPage,
  ZCompleteAcademyConversationInput,
  ZCompleteAcademyConversationOutput,
  ZListAcademyConversationsInput,
  ZStartAcademyConversationInput,
} from '@threadstore/contract';
import { completeAcademyConversation, listAcademyConversations, startAcademyConversation } from '@threadstore/domain';
import { actorOf } from '../../trpc/context.ts';
import { userProcedure } from '../../trpc/init.ts';

export const startConversation = userProcedure
  .input(ZStartAcademyConversationInput)
  .output(ZAcademyConversation)
  .mutation(({ ctx, input }) => startAcademyConversation(ctx.em, actorOf(ctx), input, ctx.limits));

export const conversations = userProcedure
  .input(ZListAcademyConversationsInput)
  .output(ZAcademyConversationPage)
  .query(({ ctx, input }) => listAcademyConversations(ctx.em, actorOf(ctx), input, ctx.limits));

/** Completes the conversation's run and pays the conversation rule's XP, once. */
export const completeConversation = userProcedure
  .input(ZCompleteAcademyConversationInput)
  .output(ZCompleteAcademyConversationOutput)
  .mutation(({ ctx, input }) => completeAcademyConversation(ctx.em, actorOf(ctx), input.id, ctx.limits));
