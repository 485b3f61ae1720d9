import type { TRPCRouterRecord } from '@trpc/server';
import { erase } from './erase.ts';

/** Export and import are plain HTTP (NDJSON streams): see `apps/api/src/account/http.ts`. */
export const accountRouter = { erase } satisfies TRPCRouterRecord;
