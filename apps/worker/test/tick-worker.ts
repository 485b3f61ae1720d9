/**
 * The worker as main.ts runs it (same registry, configuration and service life), plus two probe
 * jobs scheduled every minute, with pg-boss evaluating schedules every second instead of every
 * 30 seconds, so that the processes compete for every tick. Started as a real process by
 * worker.exactly-once.test.ts, two at a time on one database.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { runService } from '@threadstore/runtime';
import * as z from 'zod';
import { workerEnvSchema } from '../src/env.ts';
import { defineTestJob } from './define-test-job.ts';
import { jobs } from '../src/jobs/registry.ts';
import { startWorker } from '../src/worker.ts';

/** Holds its run for `holdMs` (or until aborted), and says which process ran it. */
const probe = (name: string, holdMs: number) =>
  defineTestJob({
    name,
    description: `Scheduled every minute; each run takes ${holdMs} ms.`,
    payload: z.object({}),
    schedule: { cron: '* * * * *' },
    handler: async ({ signal }) => {
      await sleep(holdMs, undefined, { signal }).catch(() => {});
      return { rowsAffected: 1, details: { pid: process.pid } };
    },
  });

// The long probe outlasts the minute, so the next tick finds it still running.
const registry = [...jobs, probe('tick-probe', 2_000), probe('long-probe', 75_000)];

await runService({
  name: 'worker',
  configSchema: workerEnvSchema(registry),
  async start({ config, logger, orm }) {
    const worker = await startWorker({
      orm,
      logger,
      config,
      jobs: registry,
      bossOptions: { cronMonitorIntervalSeconds: 1, cronWorkerIntervalSeconds: 1 },
    });
    return {
      startedMessage: 'worker started',
      startedFields: { queues: worker.queues, schedules: worker.schedules },
      stop: () => worker.stop(),
    };
  },
});
