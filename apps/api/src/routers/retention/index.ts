import type { TRPCRouterRecord } from '@trpc/server';
import { listPolicies } from './list-policies.ts';
import { preview } from './preview.ts';
import { removePolicy } from './remove-policy.ts';
import { setPolicy } from './set-policy.ts';

/** Retention policies and legal holds (administrators only). */
export const retentionRouter = { listPolicies, setPolicy, removePolicy, preview } satisfies TRPCRouterRecord;
