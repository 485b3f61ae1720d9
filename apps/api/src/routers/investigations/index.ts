import {
  ZAddFindingInput,
  ZCancelInvestigationInput,
  ZCompleteInvestigationInput,
  ZCreateInvestigationInput,
  ZFailInvestigationInput,
  ZFinding,
  ZFindingPage,
  ZInvestigation,
  ZInvestigationDetail,
  ZInvestigationIdInput,
  ZInvestigationPage,
  ZInvestigationProgressInput,
  ZLinkInvestigationInput,
  ZListFindingsInput,
  ZListInvestigationsInput,
  ZUpdateInvestigationInput,
} from '@threadstore/contract';
import {
  addFinding,
  cancelInvestigation,
  changeInvestigationLinks,
  completeInvestigation,
  createInvestigation,
  failInvestigation,
  getInvestigation,
  listFindings,
  listInvestigations,
  reportInvestigationProgress,
  startInvestigation,
  updateInvestigation,
} from '@threadstore/domain';
import type { TRPCRouterRecord } from '@trpc/server';
import { actorOf } from '../../trpc/context.ts';
import { userProcedure } from '../../trpc/init.ts';

// Investigations belong to users (directly or through their API keys). The lifecycle is
// INVESTIGATION_TRANSITIONS in @threadstore/domain: an action the status does not allow is a
// CONFLICT whose details name both states.

export const investigationsRouter = {
  create: userProcedure
    .input(ZCreateInvestigationInput)
    .output(ZInvestigation)
    .mutation(({ ctx, input }) => createInvestigation(ctx.em, actorOf(ctx), input, ctx.limits)),
  get: userProcedure
    .input(ZInvestigationIdInput)
    .output(ZInvestigationDetail)
    .query(({ ctx, input }) => getInvestigation(ctx.em, ctx.principal, input.id)),
  list: userProcedure
    .input(ZListInvestigationsInput)
    .output(ZInvestigationPage)
    .query(({ ctx, input }) => listInvestigations(ctx.em, ctx.principal, input, ctx.limits)),
  update: userProcedure
    .input(ZUpdateInvestigationInput)
    .output(ZInvestigation)
    .mutation(({ ctx, input }) => updateInvestigation(ctx.em, actorOf(ctx), input, ctx.limits)),
  start: userProcedure
    .input(ZInvestigationIdInput)
    .output(ZInvestigation)
    .mutation(({ ctx, input }) => startInvestigation(ctx.em, actorOf(ctx), input.id)),
  progress: userProcedure
    .input(ZInvestigationProgressInput)
    .output(ZInvestigation)
    .mutation(({ ctx, input }) => reportInvestigationProgress(ctx.em, actorOf(ctx), input)),
  complete: userProcedure
    .input(ZCompleteInvestigationInput)
    .output(ZInvestigation)
    .mutation(({ ctx, input }) => completeInvestigation(ctx.em, actorOf(ctx), input, ctx.limits)),
  fail: userProcedure
    .input(ZFailInvestigationInput)
    .output(ZInvestigation)
    .mutation(({ ctx, input }) => failInvestigation(ctx.em, actorOf(ctx), input, ctx.limits)),
  cancel: userProcedure
    .input(ZCancelInvestigationInput)
    .output(ZInvestigation)
    .mutation(({ ctx, input }) => cancelInvestigation(ctx.em, actorOf(ctx), input, ctx.limits)),
  addFinding: userProcedure
    .input(ZAddFindingInput)
    .output(ZFinding)
    .mutation(({ ctx, input }) => addFinding(ctx.em, actorOf(ctx), input, ctx.limits)),
  findings: userProcedure
    .input(ZListFindingsInput)
    .output(ZFindingPage)
    .query(({ ctx, input }) => listFindings(ctx.em, ctx.principal, input, ctx.limits)),
  link: userProcedure
    .input(ZLinkInvestigationInput)
    .output(ZInvestigationDetail)
    .mutation(({ ctx, input }) => changeInvestigationLinks(ctx.em, actorOf(ctx), input, 'link')),
  unlink: userProcedure
    .input(ZLinkInvestigationInput)
    .output(ZInvestigationDetail)
    .mutation(({ ctx, input }) => changeInvestigationLinks(ctx.em, actorOf(ctx), input, 'unlink')),
} satisfies TRPCRouterRecord;
