import { ZRemoveRetentionPolicyInput, ZRemoveRetentionPolicyOutput } from '@threadstore/contract';
import { removeRetentionPolicy } from '@threadstore/domain';
import { actorOf } from '../../trpc/context.ts';
import { adminProcedure } from '../../trpc/init.ts';

/** Removes a rule or lifts a legal hold. Removing a global rule keeps that target forever. */
export const removePolicy = adminProcedure
  .input(ZRemoveRetentionPolicyInput)
  .output(ZRemoveRetentionPolicyOutput)
  .mutation(async ({ ctx, input }) => ({ removed: await removeRetentionPolicy(ctx.em, actorOf(ctx), input.id) }));
