import { createCallerFactory, router } from '../trpc/init.ts';
import { adminRouter } from './admin/index.ts';
import { apiKeysRouter } from './api-keys/index.ts';
import { authRouter } from './auth/index.ts';
import { healthRouter } from './health/index.ts';
import { messagesRouter } from './messages/index.ts';
import { sessionsRouter } from './sessions/index.ts';
import { entitiesRouter } from './entities/index.ts';
import { relationshipsRouter } from './relationships/index.ts';
import { investigationsRouter } from './investigations/index.ts';
import { academyRouter } from './academy/index.ts';
import { projectsRouter } from './projects/index.ts';
import { knowledgeRouter } from './knowledge/index.ts';
import { memoriesRouter } from './memories/index.ts';
import { accountRouter } from './account/index.ts';
import { auditRouter } from './audit/index.ts';
import { retentionRouter } from './retention/index.ts';
import { chatRouter } from './chat/index.ts';
import { sharesRouter } from './shares/index.ts';

export const appRouter = router({
  health: healthRouter,
  auth: authRouter,
  apiKeys: apiKeysRouter,
  sessions: sessionsRouter,
  messages: messagesRouter,
  admin: adminRouter,
  entities: entitiesRouter,
  relationships: relationshipsRouter,
  investigations: investigationsRouter,
  academy: academyRouter,
  projects: projectsRouter,
  knowledge: knowledgeRouter,
  memories: memoriesRouter,
  account: accountRouter,
  audit: auditRouter,
  retention: retentionRouter,
  chat: chatRouter,
  shares: sharesRouter,
});

export type AppRouter = typeof appRouter;

/** Calls procedures in-process, without HTTP (tests, scripts). */
export const createCaller = createCallerFactory(appRouter);
