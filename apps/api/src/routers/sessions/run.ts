import {
  ZCompleteSessionInput,
  ZFailSessionInput,
  ZReportProgressInput,
  ZSession,
  ZSessionIdInput,
} from '@threadstore/contract';
import { completeSession, failSession, killSession, reportSessionProgress, startSession } from '@threadstore/domain';
import { actorOf } from '../../trpc/context.ts';
import { principalProcedure } from '../../trpc/init.ts';

// The run lifecycle (see SESSION_TRANSITIONS in @threadstore/domain): an action the session's
// status does not allow is a CONFLICT whose details name both states.

export const start = principalProcedure
  .input(ZSessionIdInput)
  .output(ZSession)
  .mutation(({ ctx, input }) => startSession(ctx.em, actorOf(ctx), input.id));

export const progress = principalProcedure
  .input(ZReportProgressInput)
  .output(ZSession)
  .mutation(({ ctx, input }) => reportSessionProgress(ctx.em, actorOf(ctx), input));

export const complete = principalProcedure
  .input(ZCompleteSessionInput)
  .output(ZSession)
  .mutation(({ ctx, input }) => completeSession(ctx.em, actorOf(ctx), input, ctx.limits));

export const fail = principalProcedure
  .input(ZFailSessionInput)
  .output(ZSession)
  .mutation(({ ctx, input }) => failSession(ctx.em, actorOf(ctx), input, ctx.limits));

export const kill = principalProcedure
  .input(ZSessionIdInput)
  .output(ZSession)
  .mutation(({ ctx, input }) => killSession(ctx.em, actorOf(ctx), input.id));
