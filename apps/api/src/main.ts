import cluster from 'node:cluster';
import { connectionSettingsFromEnv, loadDotEnvFile, pgClientConfig } from '@threadstore/db';
import { jobDefinitions } from '@threadstore/jobs';
import { createLogger, loadConfigOrExit, queueConnection, runService } from '@threadstore/runtime';
import pg from 'pg';
import { createJobQueue } from './admin/job-queue.ts';
import { SHUTDOWN_MESSAGE } from './cluster/messages.ts';
import { runApiCluster } from './cluster/primary.ts';
import { clusterMetrics } from './cluster/worker.ts';
import { apiEnvSchema, rateLimitSettingsFrom } from './env.ts';
import { createApiMetrics } from './metrics.ts';
import { createApiServer } from './server.ts';
import { createClusterRateLimiter, createPostgresRateLimiter } from './trpc/rate-limit.ts';

// Settings from the repository's .env, under those the environment already sets.
loadDotEnvFile();

// Exits 78 naming every bad variable, as runService would, before any worker is forked.
const primaryConfig = cluster.isPrimary ? loadConfigOrExit(apiEnvSchema) : null;
if (primaryConfig !== null && primaryConfig.API_WORKERS > 1) {
  // This process only forks and watches the workers (cluster/primary.ts); each of them runs this
  // file again and takes the branch below.
  runApiCluster({
    workers: primaryConfig.API_WORKERS,
    host: primaryConfig.API_HOST,
    logger: createLogger('api', primaryConfig.LOG_LEVEL),
    shutdownTimeoutMs: primaryConfig.SHUTDOWN_TIMEOUT_MS,
  });
} else {
  const worker = cluster.isWorker;
  await runService({
    name: 'api',
    configSchema: apiEnvSchema,
    ...(worker ? { shutdownMessage: SHUTDOWN_MESSAGE } : {}),
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
      // Without a shared store, the workers of a cluster share the primary's counts.
      const rateLimiter =
        rateLimitPool !== null
          ? createPostgresRateLimiter({ pool: rateLimitPool, logger, ...rateLimitSettingsFrom(config) })
          : worker
            ? createClusterRateLimiter({ logger, ...rateLimitSettingsFrom(config) })
            : undefined;
      const metrics = createApiMetrics({ orm });
      const api = createApiServer({
        orm,
        logger,
        config,
        jobQueue,
        metrics,
        ...(worker ? { metricsText: clusterMetrics(metrics.registry) } : {}),
        ...(rateLimiter ? { rateLimiter } : {}),
      });
      const { port } = await api.listen();
      return {
        // The primary says "listening" once every worker does.
        startedMessage: worker ? 'worker listening' : 'listening',
        startedFields: { host: config.API_HOST, port },
        stop: async () => {
          await api.close();
          await jobQueue.close();
          await rateLimitPool?.end();
        },
      };
    },
  });
}
