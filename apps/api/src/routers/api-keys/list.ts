import { ZApiKeyPage, ZListApiKeysInput } from '@threadstore/contract';
import { listApiKeys, pageSize } from '@threadstore/domain';
import { signedInProcedure } from '../../auth/procedures.ts';

/** The caller's keys, newest first, without the keys themselves. */
export const list = signedInProcedure
  .input(ZListApiKeysInput)
  .output(ZApiKeyPage)
  .query(({ ctx, input }) =>
    listApiKeys(ctx.em, ctx.principal.userId, { cursor: input?.cursor, limit: pageSize(input?.limit, ctx.limits) }),
  );
