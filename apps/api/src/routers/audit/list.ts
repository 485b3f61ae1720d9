import { ZListAuditInput, ZListAuditOutput } from '@threadstore/contract';
import { listAudit, pageSize } from '@threadstore/domain';
import { principalProcedure } from '../../trpc/init.ts';

/** The caller's own audit trail, newest first (keyset); administrators may list everyone's. */
export const list = principalProcedure
  .input(ZListAuditInput)
  .output(ZListAuditOutput)
  .query(({ ctx, input }) => listAudit(ctx.em, ctx.principal, input, pageSize(input.limit, ctx.limits)));
