import { ZListRetentionPoliciesInput, ZListRetentionPoliciesOutput } from '@threadstore/contract';
import { listRetentionPolicies } from '@threadstore/domain';
import { adminProcedure } from '../../trpc/init.ts';

/** Retention policies and legal holds: global first, then users', then projects'. */
export const listPolicies = adminProcedure
  .input(ZListRetentionPoliciesInput)
  .output(ZListRetentionPoliciesOutput)
  .query(async ({ ctx, input }) => ({ items: await listRetentionPolicies(ctx.em, input) }));
