import type { TRPCRouterRecord } from '@trpc/server';
import {
  ZCreateKnowledgeInput,
  ZDeleteKnowledgeOutput,
  ZImportKnowledgeInput,
  ZImportKnowledgeOutput,
  ZKnowledgeEntry,
  ZKnowledgeIdInput,
  ZKnowledgePage,
  ZKnowledgeSearchPage,
  ZListKnowledgeInput,
  ZSearchKnowledgeInput,
  ZUpdateKnowledgeInput,
} from '@threadstore/contract';
import {
  createKnowledge,
  deleteKnowledge,
  getKnowledge,
  importKnowledge,
  listKnowledge,
  searchKnowledge,
  updateKnowledge,
} from '@threadstore/domain';
import { actorOf } from '../../trpc/context.ts';
import { userProcedure } from '../../trpc/init.ts';

/** The caller's knowledge base (signed-in users only). */
export const knowledgeRouter = {
  create: userProcedure
    .input(ZCreateKnowledgeInput)
    .output(ZKnowledgeEntry)
    .mutation(({ ctx, input }) => createKnowledge(ctx.em, actorOf(ctx), input, ctx.limits)),
  /** All or nothing; idempotent by each entry's clientKey. */
  import: userProcedure
    .input(ZImportKnowledgeInput)
    .output(ZImportKnowledgeOutput)
    .mutation(({ ctx, input }) => importKnowledge(ctx.em, actorOf(ctx), input, ctx.limits)),
  get: userProcedure
    .input(ZKnowledgeIdInput)
    .output(ZKnowledgeEntry)
    .query(({ ctx, input }) => getKnowledge(ctx.em, ctx.principal, input.id)),
  list: userProcedure
    .input(ZListKnowledgeInput)
    .output(ZKnowledgePage)
    .query(({ ctx, input }) => listKnowledge(ctx.em, ctx.principal, input, ctx.limits)),
  update: userProcedure
    .input(ZUpdateKnowledgeInput)
    .output(ZKnowledgeEntry)
    .mutation(({ ctx, input }) => updateKnowledge(ctx.em, actorOf(ctx), input, ctx.limits)),
  delete: userProcedure
    .input(ZKnowledgeIdInput)
    .output(ZDeleteKnowledgeOutput)
    .mutation(({ ctx, input }) => deleteKnowledge(ctx.em, actorOf(ctx), input.id)),
  search: userProcedure
    .input(ZSearchKnowledgeInput)
    .output(ZKnowledgeSearchPage)
    .query(({ ctx, input }) => searchKnowledge(ctx.em, ctx.principal, input, ctx.limits)),
} satisfies TRPCRouterRecord;
