import { connectionSettingsFromEnv, loadDotEnvFile, pgClientConfig } from '@threadstore/db';
import { jobDefinitions } from '@threadstore/jobs';
import { queueConnection, runService } from '@threadstore/runtime';
import pg from 'pg';
import { createJobQueue } from './admin/job-queue.ts';
import { apiEnvSchema, rateLimitSettingsFrom } from './env.ts';
import { createApiServer } from './server.ts';
import { createPostgresRateLimiter } from './trpc/rate-limit.ts';

// Settings from the repository's .env, under those the environment already sets.
loadDotEnvFile();

await runService({
  name: 'api',
  configSchema: apiEnvSchema,
  async start({ config, logger, orm }) {
    const jobQueue = createJobQueue({
      connection: queueConnection(config, 'api'),
      schema: config.PGBOSS_SCHEMA,
      logger,
      jobs: jobDefinitions,
    });
    // Shared budgets get a tiny pool of their own: one short upsert per request, never queued
    // behind (or holding up) the requests' own connections.
    const rateLimitPool =
      config.RATE_LIMIT_STORE === 'postgres'
        ? new pg.Pool({ ...pgClientConfig(connectionSettingsFromEnv(config, 'threadstore-api-rate-limits')), max: 2 })
        : null;
    rateLimitPool?.on('error', (error) => logger.warn({ err: error }, 'rate limit pool connection failed'));
    const rateLimiter =
      rateLimitPool === null
        ? undefined
        : createPostgresRateLimiter({ pool: rateLimitPool, logger, ...rateLimitSettingsFrom(config) });
    const api = createApiServer({ orm, logger, config, jobQueue, ...(rateLimiter ? { rateLimiter } : {}) });
    const { port } = await api.listen();
    return {
      startedMessage: 'listening',
      startedFields: { host: config.API_HOST, port },
      stop: async () => {
        await api.close();
        await jobQueue.close();
        await rateLimitPool?.end();
      },
    };
  },
});
