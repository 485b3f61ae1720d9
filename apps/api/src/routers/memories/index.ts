import type { TRPCRouterRecord } from '@trpc/server';
import {
  ZCreateMemoryInput,
  ZCreateMemoryOutput,
  ZDeleteMemoryOutput,
  ZGetMemoryInput,
  ZListMemoriesInput,
  ZMemoriesContext,
  ZMemoriesContextInput,
  ZMemory,
  ZMemoryHistory,
  ZMemoryHits,
  ZMemoryIdInput,
  ZMemoryPage,
  ZSearchMemoriesInput,
  ZUpdateMemoryInput,
} from '@threadstore/contract';
import {
  createMemory,
  deleteMemory,
  getMemory,
  listMemories,
  memoriesContext,
  memoryHistory,
  searchMemories,
  updateMemory,
} from '@threadstore/domain';
import { actorOf } from '../../trpc/context.ts';
import { principalProcedure, userProcedure } from '../../trpc/init.ts';

/** What assistants remember about the caller: versioned, never overwritten. */
export const memoriesRouter = {
  /** Idempotent: the same normalised content for the same subject returns the existing memory. */
  create: userProcedure
    .input(ZCreateMemoryInput)
    .output(ZCreateMemoryOutput)
    .mutation(({ ctx, input }) => createMemory(ctx.em, actorOf(ctx), input, ctx.limits)),
  get: userProcedure
    .input(ZGetMemoryInput)
    .output(ZMemory)
    .query(({ ctx, input }) => getMemory(ctx.em, ctx.principal, input)),
  list: userProcedure
    .input(ZListMemoriesInput)
    .output(ZMemoryPage)
    .query(({ ctx, input }) => listMemories(ctx.em, ctx.principal, input, ctx.limits)),
  update: userProcedure
    .input(ZUpdateMemoryInput)
    .output(ZMemory)
    .mutation(({ ctx, input }) => updateMemory(ctx.em, actorOf(ctx), input, ctx.limits)),
  delete: userProcedure
    .input(ZMemoryIdInput)
    .output(ZDeleteMemoryOutput)
    .mutation(({ ctx, input }) => deleteMemory(ctx.em, actorOf(ctx), input.id)),
  history: userProcedure
    .input(ZMemoryIdInput)
    .output(ZMemoryHistory)
    .query(({ ctx, input }) => memoryHistory(ctx.em, ctx.principal, input.id)),
  search: userProcedure
    .input(ZSearchMemoriesInput)
    .output(ZMemoryHits)
    .query(({ ctx, input }) => searchMemories(ctx.em, ctx.principal, input, ctx.limits)),
  /** For every conversation turn: anonymous visitors get an empty context, not an error. */
  context: principalProcedure
    .input(ZMemoriesContextInput)
    .output(ZMemoriesContext)
    .query(({ ctx, input }) => memoriesContext(ctx.em, ctx.principal, input)),
} satisfies TRPCRouterRecord;
