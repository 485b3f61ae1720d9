import type { TRPCRouterRecord } from '@trpc/server';
import { create } from './create.ts';
import { list } from './list.ts';
import { revoke } from './revoke.ts';

export const apiKeysRouter = { create, list, revoke } satisfies TRPCRouterRecord;
