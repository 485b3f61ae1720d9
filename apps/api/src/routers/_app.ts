import { createCallerFactory, router } from '../trpc/init.ts';
import { adminRouter } from './admin/index.ts';
import { apiKeysRouter } from './api-keys/index.ts';
import { authRouter } from './auth/index.ts';
import { healthRouter } from './health/index.ts';
import { messagesRouter } from './messages/index.ts';
import { sessionsRouter } from './sessions/index.ts';
import { chatRouter } from './chat/index.ts';

export const appRouter = router({
  health: healthRouter,
  auth: authRouter,
  apiKeys: apiKeysRouter,
  sessions: sessionsRouter,
  messages: messagesRouter,
  admin: adminRouter,
  chat: chatRouter,
});

export type AppRouter = typeof appRouter;

/** Calls procedures in-process, without HTTP (tests, scripts). */
export const createCaller = createCallerFactory(appRouter);
