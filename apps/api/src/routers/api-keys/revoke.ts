import { ZApiKey, ZRevokeApiKeyInput } from '@threadstore/contract';
import { revokeApiKey } from '@threadstore/domain';
import { signedInProcedure } from '../../auth/procedures.ts';
import { actorOf } from '../../trpc/context.ts';

/** Revokes one of the caller's keys at once; revoking it again is harmless. */
export const revoke = signedInProcedure
  .input(ZRevokeApiKeyInput)
  .output(ZApiKey)
  .mutation(({ ctx, input }) => revokeApiKey(ctx.em, actorOf(ctx), ctx.principal.userId, input.id));
