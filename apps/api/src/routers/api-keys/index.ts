import type { TRPCRouterRecord } from '@trpc/server';

export const apiKeysRouter = {} satisfies TRPCRouterRecord;
