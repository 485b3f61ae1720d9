import { loadDotEnvFile } from '@threadstore/db';
import { runService } from '@threadstore/runtime';
import { workerEnvSchema } from './env.ts';
import { jobs } from './jobs/registry.ts';
import { startWorker } from './worker.ts';

// Settings from the repository's .env, under those the environment already sets.
loadDotEnvFile();

await runService({
  name: 'worker',
  configSchema: workerEnvSchema(jobs),
  async start({ config, logger, orm }) {
    const worker = await startWorker({ orm, logger, config, jobs });
    return {
      startedMessage: 'worker started',
      startedFields: { queues: worker.queues, schedules: worker.schedules },
      stop: () => worker.stop(),
    };
  },
});
