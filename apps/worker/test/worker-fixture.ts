import { randomBytes } from 'node:crypto';
import type { TestDatabase } from '@threadstore/db/testing';
import { loadConfig } from '@threadstore/runtime';
import { workerEnvSchema, type WorkerConfig } from '../src/env.ts';
import type { JobContract } from '../src/jobs/contract.ts';

/** A pg-boss schema of its own, so tests sharing a database never see each other's queues. */
export function uniqueBossSchema(): string {
  return `pgboss_${randomBytes(5).toString('hex')}`;
}

/** A worker configuration parsed the way main.ts parses it, polling as fast as pg-boss allows. */
export function testWorkerConfig(
  db: TestDatabase,
  jobs: readonly JobContract[],
  env: Record<string, string> = {},
): WorkerConfig {
  return loadConfig(workerEnvSchema(jobs), {
    DATABASE_URL: db.url,
    PGBOSS_SCHEMA: uniqueBossSchema(),
    WORKER_POLL_INTERVAL_SECONDS: '0.5',
    SHUTDOWN_TIMEOUT_MS: '10000',
    ...env,
  });
}
