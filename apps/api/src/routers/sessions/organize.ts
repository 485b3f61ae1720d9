import {
  ZSession,
  ZSessionIdInput,
  ZSessionTagsInput,
  ZSessionTagsOutput,
  ZTagSessionInput,
} from '@threadstore/contract';
import { ownerOf, pinSession, sessionTags, tagSession, unpinSession, untagSession } from '@threadstore/domain';
import { actorOf } from '../../trpc/context.ts';
import { principalProcedure } from '../../trpc/init.ts';

export const tag = principalProcedure
  .input(ZTagSessionInput)
  .output(ZSession)
  .mutation(({ ctx, input }) => tagSession(ctx.em, actorOf(ctx), input));

export const untag = principalProcedure
  .input(ZTagSessionInput)
  .output(ZSession)
  .mutation(({ ctx, input }) => untagSession(ctx.em, actorOf(ctx), input));

export const tags = principalProcedure
  .input(ZSessionTagsInput)
  .output(ZSessionTagsOutput)
  .query(({ ctx, input }) => sessionTags(ctx.em, ownerOf(ctx.principal), input));

export const pin = principalProcedure
  .input(ZSessionIdInput)
  .output(ZSession)
  .mutation(({ ctx, input }) => pinSession(ctx.em, actorOf(ctx), input.id));

export const unpin = principalProcedure
  .input(ZSessionIdInput)
  .output(ZSession)
  .mutation(({ ctx, input }) => unpinSession(ctx.em, actorOf(ctx), input.id));
