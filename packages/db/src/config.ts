import { join } from 'node:path';
import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { pgClientConfig, type ConnectionSettings } from './connection.ts';
import { entities } from './entities/index.ts';

/**
 * The ORM configuration for a set of connection settings. Pure: it opens nothing, so the CLI,
 * the apps and the tests all build the same configuration from their own settings.
 */
export function makeOrmConfig(connection: ConnectionSettings, overrides: Partial<Options> = {}): Options {
  const { host, port, user, password, database, ...driverOptions } = pgClientConfig(connection);
  return defineConfig({
    host,
    port,
    user,
    ...(password === undefined ? {} : { password }),
    dbName: database,
    entities,
    extensions: [Migrator],
    pool: { min: connection.poolMin, max: connection.poolMax },
    // Passed straight to pg.Pool: TLS, timeouts and the application name seen in pg_stat_activity.
    driverOptions,
    migrations: {
      // src/migrations under Node's type stripping and vitest; dist/migrations once compiled.
      path: join(import.meta.dirname, 'migrations'),
      glob: '!(*.d).{js,ts}',
      emit: 'ts',
      tableName: 'mikro_orm_migrations',
      // One committed snapshot, not one per database name the migrations happened to run against.
      snapshotName: '.snapshot',
      snapshotOnMigrate: false,
      // Each migration runs in its own transaction; a failure leaves the previous ones applied.
      allOrNothing: false,
      transactional: true,
    },
    ...overrides,
  });
}
