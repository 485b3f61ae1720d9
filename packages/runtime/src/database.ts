import {
  assertSchemaCurrent,
  assertSupportedServer,
  connectionSettingsFromEnv,
  createOrm,
  databaseEnvSchema,
  databaseUrlSchema,
  migrate,
  type MikroORM,
} from '@threadstore/db';
import type { Logger } from 'pino';
import * as z from 'zod';
import { envBoolean } from './config.ts';

/** Database variables for a process that needs an already running server. */
export const serviceDatabaseEnvSchema = databaseEnvSchema.extend({
  DATABASE_URL: z
    .string({
      error: (issue) =>
        issue.input === undefined
          ? 'is required (postgresql://user:password@host:5432/db); `pnpm start` at the repository root runs everything on an embedded PostgreSQL instead'
          : undefined,
    })
    .pipe(databaseUrlSchema),
  // Apply pending migrations at start instead of refusing to run. Off by default: in production
  // a dedicated migrate step (docker-compose's `migrate` service) should own schema changes.
  MIGRATE_ON_START: envBoolean.default(false),
  // Log every SQL statement with its duration and row count (MikroORM's query log), at info level.
  DATABASE_DEBUG: envBoolean.default(false),
});
export type ServiceDatabaseEnv = z.infer<typeof serviceDatabaseEnvSchema>;

/**
 * Opens the ORM for a service and makes sure the schema is the one this build expects:
 * either migrating (MIGRATE_ON_START) or refusing to start with SchemaMismatchError, which
 * names the missing migrations.
 */
export async function openServiceDatabase(env: ServiceDatabaseEnv, service: string, logger: Logger): Promise<MikroORM> {
  const orm = await createOrm({
    connection: connectionSettingsFromEnv(env, `threadstore-${service}`),
    debug: env.DATABASE_DEBUG,
    // With DATABASE_DEBUG the statements are what was asked for, so they must show at the default level.
    log: (message) => logger[env.DATABASE_DEBUG ? 'info' : 'debug']({ component: 'orm' }, message),
  });
  try {
    if (env.MIGRATE_ON_START) {
      // migrate() refuses an unsupported server itself.
      const applied = await migrate(orm);
      if (applied.length > 0) logger.info({ applied }, 'applied migrations');
    } else {
      await assertSupportedServer(orm);
    }
    await assertSchemaCurrent(orm);
    return orm;
  } catch (error) {
    await orm.close();
    throw error;
  }
}
