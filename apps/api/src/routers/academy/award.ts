import { ZAwardXpInput, ZAwardXpOutput } from '@threadstore/contract';
import { awardXp, DomainError } from '@threadstore/domain';
import { actorOf } from '../../trpc/context.ts';
import { publicProcedure } from '../../trpc/init.ts';

/**
 * XP for a learner from a trusted backend: an administrator's API key with the `academy.award`
 * scope (and no other scope needed: such a key can do this and nothing else). Idempotent by
 * (learner, sourceEventId).
 */
export const award = publicProcedure
  .use(({ ctx, next }) => {
    const { principal } = ctx;
    if (principal === null) throw new DomainError('UNAUTHORIZED', ctx.authFailure ?? 'send an API key');
    return next({ ctx: { principal } });
  })
  .input(ZAwardXpInput)
  .output(ZAwardXpOutput)
  .mutation(({ ctx, input }) => awardXp(ctx.em, actorOf(ctx), input, ctx.limits));
