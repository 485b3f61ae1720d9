import { loadDotEnvFile } from '@threadstore/db';
import { jobDefinitions } from '@threadstore/jobs';
import { queueConnection, runService } from '@threadstore/runtime';
import { createJobQueue } from './admin/job-queue.ts';
import { apiEnvSchema } from './env.ts';
import { createApiServer } from './server.ts';

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
    const api = createApiServer({ orm, logger, config, jobQueue });
    const { port } = await api.listen();
    return {
      startedMessage: 'listening',
      startedFields: { host: config.API_HOST, port },
      stop: async () => {
        await api.close();
        await jobQueue.close();
      },
    };
  },
});
