import { ZWhoami } from '@threadstore/contract';
import { describePrincipal } from '@threadstore/domain';
import { principalProcedure } from '../../trpc/init.ts';

/** Who the request's credentials say the caller is. */
export const whoami = principalProcedure.output(ZWhoami).query(({ ctx }) => describePrincipal(ctx.em, ctx.principal));
