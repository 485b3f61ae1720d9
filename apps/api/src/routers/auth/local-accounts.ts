import { ZAuthToken, ZSignInInput, ZSignUpInput, type TAuthUser } from '@threadstore/contract';
import { DomainError, signInLocalAccount, signUpLocalAccount } from '@threadstore/domain';
import type { Context } from '../../trpc/context.ts';
import { publicProcedure } from '../../trpc/init.ts';

/** Creates a local account and signs it in. */
export const signUp = publicProcedure
  .input(ZSignUpInput)
  .output(ZAuthToken)
  .mutation(async ({ ctx, input }) => {
    const localAccounts = localAccountsOf(ctx);
    return tokenFor(localAccounts, await signUpLocalAccount(ctx.em, ctx.requestId, input));
  });

/** A bearer token for a local account's username and password. */
export const signIn = publicProcedure
  .input(ZSignInInput)
  .output(ZAuthToken)
  .mutation(async ({ ctx, input }) => {
    const localAccounts = localAccountsOf(ctx);
    return tokenFor(localAccounts, await signInLocalAccount(ctx.em, ctx.requestId, input));
  });

function localAccountsOf(ctx: Pick<Context, 'localAccounts'>): NonNullable<Context['localAccounts']> {
  if (ctx.localAccounts === null) {
    throw new DomainError('FORBIDDEN', 'local accounts are disabled on this server (AUTH_LOCAL_ACCOUNTS)');
  }
  return ctx.localAccounts;
}

async function tokenFor(localAccounts: NonNullable<Context['localAccounts']>, user: TAuthUser) {
  const { token, expiresAt } = await localAccounts.issueToken(user.id);
  return { token, expiresAt: expiresAt.toISOString(), user };
}
