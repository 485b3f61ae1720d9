import { ZErasureReceipt, ZEraseAccountInput } from '@threadstore/contract';
import { eraseAccount } from '@threadstore/domain';
import { signedInProcedure } from '../../auth/procedures.ts';

/**
 * Erases the caller's account for good and returns the receipt. Signed-in people only: a leaked
 * API key must not be able to destroy its owner's account. If the request dies half-way, the
 * account stays shut and the worker's `account-erasure` job finishes the erasure.
 */
export const erase = signedInProcedure
  .input(ZEraseAccountInput)
  .output(ZErasureReceipt)
  .mutation(({ ctx }) => eraseAccount(ctx.em, ctx.principal.userId, { requestId: ctx.requestId }));
