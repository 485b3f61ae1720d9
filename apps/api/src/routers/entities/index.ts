import {
  ZEntity,
  ZEntityIdInput,
  ZEntitySearchResult,
  ZMergeEntitiesInput,
  ZNeighboursInput,
  ZNeighboursPage,
  ZPathInput,
  ZPathOutput,
  ZSearchEntitiesInput,
  ZUpsertEntityInput,
  ZUpsertEntityOutput,
} from '@threadstore/contract';
import {
  entityNeighbours,
  entityPath,
  getEntity,
  mergeEntities,
  searchEntities,
  upsertEntity,
} from '@threadstore/domain';
import type { TRPCRouterRecord } from '@trpc/server';
import { actorOf } from '../../trpc/context.ts';
import { userProcedure } from '../../trpc/init.ts';

// The entity graph belongs to users (directly or through their API keys); anonymous visitors
// have none. A walk that would not finish within its budget answers TIMEOUT.

export const entitiesRouter = {
  upsert: userProcedure
    .input(ZUpsertEntityInput)
    .output(ZUpsertEntityOutput)
    .mutation(({ ctx, input }) => upsertEntity(ctx.em, actorOf(ctx), input, ctx.limits)),
  get: userProcedure
    .input(ZEntityIdInput)
    .output(ZEntity)
    .query(({ ctx, input }) => getEntity(ctx.em, ctx.principal, input.id)),
  search: userProcedure
    .input(ZSearchEntitiesInput)
    .output(ZEntitySearchResult)
    .query(({ ctx, input }) => searchEntities(ctx.em, ctx.principal, input, ctx.limits)),
  merge: userProcedure
    .input(ZMergeEntitiesInput)
    .output(ZEntity)
    .mutation(({ ctx, input }) => mergeEntities(ctx.em, actorOf(ctx), input)),
  neighbours: userProcedure
    .input(ZNeighboursInput)
    .output(ZNeighboursPage)
    .query(({ ctx, input }) => entityNeighbours(ctx.em, ctx.principal, input, ctx.limits)),
  path: userProcedure
    .input(ZPathInput)
    .output(ZPathOutput)
    .query(({ ctx, input }) => entityPath(ctx.em, ctx.principal, input)),
} satisfies TRPCRouterRecord;
