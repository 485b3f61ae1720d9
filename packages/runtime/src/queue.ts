import { connectionSettingsFromEnv, pgClientConfig } from '@threadstore/db';
import * as z from 'zod';
import type { ServiceDatabaseEnv } from './database.ts';

/** Where pg-boss keeps its tables; the worker works them and the API sends to them. */
export const queueEnvSchema = z.object({
  // pg-boss's tables live in a schema of their own, beside the data model's.
  PGBOSS_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,49}$/, 'must be a lower-case PostgreSQL identifier of at most 50 characters')
    .default('pgboss'),
});

/**
 * The service's connection settings (TLS and sslmode included) for pg-boss's pool, minus the
 * statement_timeout: pg-boss runs its own long statements there (REINDEX CONCURRENTLY of bloated
 * job indexes, index builds after an upgrade), and cancelling those half-way leaves invalid
 * indexes behind.
 */
export function queueConnection(env: ServiceDatabaseEnv, service: string) {
  const { statement_timeout: _statementTimeout, ...connection } = pgClientConfig(
    connectionSettingsFromEnv(env, `threadstore-${service}`),
  );
  return connection;
}
