import {
  ZRemoveRelationshipInput,
  ZRemoveRelationshipOutput,
  ZUpsertRelationshipInput,
  ZUpsertRelationshipOutput,
} from '@threadstore/contract';
import { removeRelationship, upsertRelationship } from '@threadstore/domain';
import type { TRPCRouterRecord } from '@trpc/server';
import { actorOf } from '../../trpc/context.ts';
import { userProcedure } from '../../trpc/init.ts';

export const relationshipsRouter = {
  upsert: userProcedure
    .input(ZUpsertRelationshipInput)
    .output(ZUpsertRelationshipOutput)
    .mutation(({ ctx, input }) => upsertRelationship(ctx.em, actorOf(ctx), input, ctx.limits)),
  remove: userProcedure
    .input(ZRemoveRelationshipInput)
    .output(ZRemoveRelationshipOutput)
    .mutation(({ ctx, input }) => removeRelationship(ctx.em, actorOf(ctx), input)),
} satisfies TRPCRouterRecord;
