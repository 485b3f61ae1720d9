import { ZEditMessageInput, ZMessage, ZMessageIdInput, ZMessageVersionsOutput } from '@threadstore/contract';
import { editMessage, messageVersions, ownerOf } from '@threadstore/domain';
import { actorOf } from '../../trpc/context.ts';
import { principalProcedure } from '../../trpc/init.ts';

export const edit = principalProcedure
  .input(ZEditMessageInput)
  .output(ZMessage)
  .mutation(({ ctx, input }) => editMessage(ctx.em, actorOf(ctx), input, ctx.limits));

export const versions = principalProcedure
  .input(ZMessageIdInput)
  .output(ZMessageVersionsOutput)
  .query(({ ctx, input }) => messageVersions(ctx.em, ownerOf(ctx.principal), input.id));
