import { ZCreateApiKeyInput, ZCreatedApiKey } from '@threadstore/contract';
import { createApiKey } from '@threadstore/domain';
import { signedInProcedure } from '../../auth/procedures.ts';
import { actorOf } from '../../trpc/context.ts';

/** A new key for the caller; the response is the only place the key ever appears. */
export const create = signedInProcedure
  .input(ZCreateApiKeyInput)
  .output(ZCreatedApiKey)
  .mutation(({ ctx, input }) => createApiKey(ctx.em, actorOf(ctx), ctx.principal.userId, input));
