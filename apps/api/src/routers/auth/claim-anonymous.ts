import { ZClaimAnonymousInput, ZClaimAnonymousOutput } from '@threadstore/contract';
import { claimAnonymousSessions } from '@threadstore/domain';
import { signedInProcedure } from '../../auth/procedures.ts';
import { actorOf } from '../../trpc/context.ts';

/** Moves an anonymous visitor's sessions into the signed-in user's account; again, it moves nothing. */
export const claimAnonymous = signedInProcedure
  .input(ZClaimAnonymousInput)
  .output(ZClaimAnonymousOutput)
  .mutation(({ ctx, input }) => claimAnonymousSessions(ctx.em, actorOf(ctx), ctx.principal.userId, input.anonymousId));
