import { createCallerFactory, router } from '../trpc/init.ts';
import { healthRouter } from './health/index.ts';

export const appRouter = router({ health: healthRouter });

export type AppRouter = typeof appRouter;

/** Calls procedures in-process, without HTTP (tests, scripts). */
export const createCaller = createCallerFactory(appRouter);
