import { runService } from '@threadstore/runtime';
import { workerEnvSchema } from './env.ts';
import { jobs } from './jobs/registry.ts';
import { startWorker } from './worker.ts';

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
