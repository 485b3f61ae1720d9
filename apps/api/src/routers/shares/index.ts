import type { TRPCRouterRecord } from '@trpc/server';
import {
  ZCreateShareInput,
  ZCreateShareOutput,
  ZListSharesInput,
  ZListSharesOutput,
  ZShare,
  ZShareIdInput,
  ZViewShareInput,
  ZViewShareOutput,
} from '@threadstore/contract';
import { createShare, listShares, ownerOf, revokeShare, viewShare } from '@threadstore/domain';
import { actorOf } from '../../trpc/context.ts';
import { principalProcedure, publicProcedure } from '../../trpc/init.ts';

export const sharesRouter = {
  create: principalProcedure
    .input(ZCreateShareInput)
    .output(ZCreateShareOutput)
    .mutation(({ ctx, input }) => createShare(ctx.em, actorOf(ctx), input)),
  revoke: principalProcedure
    .input(ZShareIdInput)
    .output(ZShare)
    .mutation(({ ctx, input }) => revokeShare(ctx.em, actorOf(ctx), input.id)),
  list: principalProcedure
    .input(ZListSharesInput)
    .output(ZListSharesOutput)
    .query(({ ctx, input }) => listShares(ctx.em, ownerOf(ctx.principal), input, ctx.limits)),
  /**
   * Anyone holding the token, signed in or not: the token is the only credential, and the answer
   * is the same whoever asks. Rate-limited like every call without credentials (per address), and
   * run within their bounded share of the pool.
   */
  view: publicProcedure
    .input(ZViewShareInput)
    .output(ZViewShareOutput)
    .query(({ ctx, input }) => viewShare(ctx.em, input, ctx.limits)),
} satisfies TRPCRouterRecord;
