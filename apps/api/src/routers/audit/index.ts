import type { TRPCRouterRecord } from '@trpc/server';
import { list } from './list.ts';

export const auditRouter = { list } satisfies TRPCRouterRecord;
