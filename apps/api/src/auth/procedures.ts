import { DomainError } from '@threadstore/domain';
import { userProcedure } from '../trpc/init.ts';

/**
 * A person signed in with a bearer token. API keys are refused: they are for agent backends, and
 * a leaked key must not be able to mint more keys, revoke its owner's others, or take over
 * anonymous visitors' sessions.
 */
export const signedInProcedure = userProcedure.use(({ ctx, next }) => {
  const { principal } = ctx;
  if (principal.kind !== 'user') {
    throw new DomainError('FORBIDDEN', 'API keys cannot do this; sign in with a bearer token');
  }
  return next({ ctx: { principal } });
});
