import type { TRPCRouterRecord } from '@trpc/server';
import { check } from './check.ts';

export const healthRouter = { check } satisfies TRPCRouterRecord;
