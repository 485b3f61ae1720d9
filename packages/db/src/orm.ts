import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MikroORM, type Options } from '@mikro-orm/postgresql';
import type { ConnectionSettings } from './connection.ts';
import { makeOrmConfig } from './config.ts';

export interface CreateOrmOptions {
  connection: ConnectionSettings;
  /** Log every SQL statement (through `log`). */
  debug?: boolean;
  /** Where MikroORM's own messages go (migrations applied, SQL when `debug`); silent by default. */
  log?: (message: string) => void;
  /** Escape hatch for tests and tools; applied last. */
  overrides?: Partial<Options>;
}

/**
 * Opens a connection pool and returns a MikroORM instance. There is deliberately no shared
 * instance: each app creates one at start, hands `orm.em.fork()` to each request or job, and
 * closes it on shutdown.
 */
export async function createOrm({
  connection,
  debug = false,
  log = () => {},
  overrides = {},
}: CreateOrmOptions): Promise<MikroORM> {
  return MikroORM.init(makeOrmConfig(connection, { debug, logger: log, ...overrides }));
}

export interface MigrationStatus {
  executed: string[];
  pending: string[];
}

/** Which migrations this build ships that the database has not applied (and those it has). */
export async function getMigrationStatus(orm: MikroORM): Promise<MigrationStatus> {
  // Both calls create the bookkeeping table when it is missing; done concurrently (or by two
  // processes at once) that CREATE TABLE IF NOT EXISTS races on pg_type, so it runs under the lock.
  return withMigrationLock(orm, async () => {
    const executed = await orm.migrator.getExecuted();
    const pending = await orm.migrator.getPending();
    return { executed: executed.map((m) => m.name), pending: pending.map((m) => m.name) };
  });
}

/**
 * The names of every migration this build carries, oldest first, read from the folder the
 * migrator reads (src/migrations under type stripping, dist/migrations once compiled).
 */
export function shippedMigrationNames(): string[] {
  return readdirSync(join(import.meta.dirname, 'migrations'))
    .filter((file) => /^Migration\d+_\w+\.(ts|js)$/.test(file) && !file.endsWith('.d.ts'))
    .map((file) => file.replace(/\.(ts|js)$/, ''))
    .sort();
}

/**
 * The shipped migrations the database lacks, read with one plain SELECT: no advisory lock, no
 * CREATE TABLE IF NOT EXISTS, one pooled connection held for one statement. For probes, which
 * run often and concurrently: getMigrationStatus holds a connection on the lock while the
 * migrator takes a second one, so a burst of probes could empty the pool and deadlock it.
 */
export async function readPendingMigrations(orm: MikroORM): Promise<string[]> {
  const connection = orm.em.getConnection();
  // Two statements: a SELECT naming a missing table fails at parse time, even behind a CASE.
  const [table] = await connection.execute<{ present: boolean }[]>(
    `select to_regclass('mikro_orm_migrations') is not null as present`,
  );
  const executed = new Set(
    table?.present
      ? (await connection.execute<{ name: string }[]>('select name from mikro_orm_migrations')).map((r) => r.name)
      : [],
  );
  return shippedMigrationNames().filter((name) => !executed.has(name));
}

export class SchemaMismatchError extends Error {
  override name = 'SchemaMismatchError';
  readonly pending: string[];
  constructor(pending: string[]) {
    super(
      `the database is missing ${pending.length} migration(s) this build needs (${pending.join(', ')}); ` +
        'run `pnpm db:migrate` (or start with MIGRATE_ON_START=true) first',
    );
    this.pending = pending;
  }
}

/** Throws SchemaMismatchError when the database lacks migrations this build ships. */
export async function assertSchemaCurrent(orm: MikroORM): Promise<void> {
  const { pending } = await getMigrationStatus(orm);
  if (pending.length > 0) throw new SchemaMismatchError(pending);
}

/**
 * An arbitrary but fixed advisory-lock key. Two processes starting at once (API and worker, or
 * two replicas) would otherwise both see the same pending migration and both try to apply it;
 * the second would fail half-way on "relation already exists".
 */
const MIGRATION_LOCK_KEY = 7_341_120_001;

/**
 * Applies pending migrations (up to and including `to` when given), serialised across processes
 * by an advisory lock. Returns their names.
 */
export async function migrate(orm: MikroORM, { to }: { to?: string } = {}): Promise<string[]> {
  await assertSupportedServer(orm);
  return withMigrationLock(orm, async () =>
    (await orm.migrator.up(to === undefined ? undefined : { to })).map((m) => m.name),
  );
}

/** The PostgreSQL majors Threadstore is tested on (CI runs 15 and 18). */
export const SUPPORTED_SERVER_MAJORS = { oldest: 15, newest: 18 } as const;

export class UnsupportedServerError extends Error {
  override name = 'UnsupportedServerError';
}

/**
 * Refuses servers older than 15 with a message that says so. The schema relies on 15+ (for
 * example `UNIQUE … NULLS NOT DISTINCT`), and without this check an old server fails half-way
 * through the first migration with a bare syntax error. Newer majors than we test are allowed.
 */
export function checkServerVersion(serverVersionNum: number): void {
  const major = Math.floor(serverVersionNum / 10_000);
  if (major < SUPPORTED_SERVER_MAJORS.oldest) {
    throw new UnsupportedServerError(
      `PostgreSQL ${major} is not supported; Threadstore needs PostgreSQL ${SUPPORTED_SERVER_MAJORS.oldest} or newer ` +
        `(tested on ${SUPPORTED_SERVER_MAJORS.oldest} to ${SUPPORTED_SERVER_MAJORS.newest})`,
    );
  }
}

export async function assertSupportedServer(orm: MikroORM): Promise<void> {
  const [row] = await orm.em.getConnection().execute<{ server_version_num: string }[]>('show server_version_num');
  checkServerVersion(Number(row!.server_version_num));
}

async function withMigrationLock<T>(orm: MikroORM, fn: () => Promise<T>): Promise<T> {
  const pool = await orm.em.getConnection().getNativeClient();
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      return await fn();
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}
