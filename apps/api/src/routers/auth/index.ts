import type { TRPCRouterRecord } from '@trpc/server';
import { claimAnonymous } from './claim-anonymous.ts';
import { signIn, signUp } from './local-accounts.ts';
import { whoami } from './whoami.ts';

export const authRouter = { signUp, signIn, claimAnonymous, whoami } satisfies TRPCRouterRecord;
