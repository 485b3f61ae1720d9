import { loadDotEnvFile } from '@threadstore/db';
import { runService } from '@threadstore/runtime';
import { workerEnvSchema } from './env.ts';
import { jobs } from './jobs/registry.ts';
import { createWorkerMetrics, serveWorkerMetrics } from './metrics.ts';
import { startWorker } from './worker.ts';

// Settings from the repository's .env, under those the environment already sets.
loadDotEnvFile();

await runService({
  name: 'worker',
  configSchema: workerEnvSchema(jobs),
  async start({ config, logger, orm }) {
    const metrics = createWorkerMetrics({ orm, pgBossSchema: config.PGBOSS_SCHEMA });
    const worker = await startWorker({ orm, logger, config, jobs, metrics });
    const metricsServer =
      config.WORKER_METRICS_PORT === 'off'
        ? null
        : await serveWorkerMetrics(metrics, {
            host: config.WORKER_METRICS_HOST,
            port: config.WORKER_METRICS_PORT,
            logger,
          });
    return {
      startedMessage: 'worker started',
      startedFields: { queues: worker.queues, schedules: worker.schedules, metricsPort: metricsServer?.port ?? null },
      stop: async () => {
        await metricsServer?.close();
        await worker.stop();
      },
    };
  },
});
