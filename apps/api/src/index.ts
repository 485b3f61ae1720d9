/**
 * The API's public surface for clients: types only, so `import type { AppRouter } from
 * '@threadstore/api'` pulls no server code (nor the database driver) into a frontend bundle.
 */
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from './routers/_app.ts';

export type { AppRouter };
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type { THealthCheckOutput } from './routers/health/check.types.ts';
