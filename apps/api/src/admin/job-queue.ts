import type { Logger } from '@threadstore/runtime';
import type { JobDefinition } from '@threadstore/jobs';
import { PgBoss, type ConstructorOptions, type Schedule } from 'pg-boss';

/** The API's side of the worker's queues: what jobs exist, their schedules, and "run this now". */
export interface JobQueue {
  readonly jobs: readonly JobDefinition[];
  /** The schedules the workers registered, by job name. */
  schedules(): Promise<Map<string, Schedule>>;
  /** Queues one run; null when pg-boss turned it away (an exclusive job already queued or running). */
  send(job: JobDefinition, payload: Record<string, unknown>): Promise<string | null>;
  close(): Promise<void>;
}

/**
 * A send-only pg-boss: no polling, no cron, no maintenance — the worker owns those. It connects on
 * first use, so an API whose admins never touch jobs never opens the extra pool.
 */
export function createJobQueue({
  connection,
  schema,
  logger,
  jobs,
}: {
  connection: Omit<ConstructorOptions, 'schema'>;
  schema: string;
  logger: Logger;
  jobs: readonly JobDefinition[];
}): JobQueue {
  let started: Promise<PgBoss> | undefined;
  const boss = (): Promise<PgBoss> =>
    (started ??= (async () => {
      // migrate: false — the worker installs and upgrades pg-boss's schema; the API's database
      // role may not run DDL (see packages/db/src/roles.ts).
      const instance = new PgBoss({ ...connection, schema, supervise: false, schedule: false, migrate: false, max: 2 });
      instance.on('error', (error) => logger.error({ err: error, component: 'pg-boss' }, 'pg-boss error'));
      await instance.start();
      return instance;
    })().catch((error: unknown) => {
      // Let the next call try again instead of caching the failure forever.
      started = undefined;
      throw error;
    }));

  return {
    jobs,
    async schedules() {
      const all = await (await boss()).getSchedules();
      return new Map(all.map((schedule) => [schedule.name, schedule]));
    },
    async send(job, payload) {
      return (await boss()).send(job.name, payload);
    },
    async close() {
      if (started === undefined) return;
      const instance = await started.catch(() => undefined);
      await instance?.stop({ graceful: false, close: true });
    },
  };
}
