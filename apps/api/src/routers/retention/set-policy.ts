import { ZRetentionPolicy, ZSetRetentionPolicyInput } from '@threadstore/contract';
import { setRetentionPolicy } from '@threadstore/domain';
import { actorOf } from '../../trpc/context.ts';
import { adminProcedure } from '../../trpc/init.ts';

/** Sets a rule (keep a target N days) or a legal hold for everyone, a user or a project; replaces one that exists. */
export const setPolicy = adminProcedure
  .input(ZSetRetentionPolicyInput)
  .output(ZRetentionPolicy)
  .mutation(({ ctx, input }) => setRetentionPolicy(ctx.em, actorOf(ctx), input));
