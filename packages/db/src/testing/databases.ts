import { randomBytes } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { connectionSettingsFromUrl, type ConnectionSettings } from '../connection.ts';
import { createOrm, migrate } from '../orm.ts';

/** What the global setup hands each test file: where the server is and which template to clone. */
export interface TestPostgres {
  adminUrl: string;
  template: string;
  serverVersion: number;
}

export interface TestDatabase {
  name: string;
  url: string;
  connection: ConnectionSettings;
  /** A fresh ORM on this database; the caller closes it. */
  createOrm(): Promise<MikroORM>;
  drop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Replaces the database name in a URL. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function withAdmin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Builds the migrated template database every test database is cloned from. */
export async function createTemplateDatabase(adminUrl: string, template: string): Promise<void> {
  await withAdmin(adminUrl, async (client) => {
    await client.query(`drop database if exists ${client.escapeIdentifier(template)}`);
    await client.query(`create database ${client.escapeIdentifier(template)}`);
  });
  const orm = await createOrm({ connection: connectionSettingsFromUrl(withDatabase(adminUrl, template)) });
  try {
    await migrate(orm);
  } finally {
    await orm.close();
  }
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await withAdmin(adminUrl, (client) =>
    client.query(`drop database if exists ${client.escapeIdentifier(name)} with (force)`),
  );
}

/**
 * A database of its own for one test file: a clone of the migrated template (`fromTemplate`,
 * the default, about 100 ms) or an empty one for tests of the migrations themselves.
 */
export async function createTestDatabase(
  server: TestPostgres,
  { empty = false }: { empty?: boolean } = {},
): Promise<TestDatabase> {
  const name = `threadstore_test_${randomBytes(6).toString('hex')}`;
  await withAdmin(server.adminUrl, (client) =>
    client.query(
      `create database ${client.escapeIdentifier(name)}` +
        (empty ? '' : ` template ${client.escapeIdentifier(server.template)}`),
    ),
  );
  const url = withDatabase(server.adminUrl, name);
  const connection = connectionSettingsFromUrl(url);
  const drop = () => dropDatabase(server.adminUrl, name);
  return {
    name,
    url,
    connection,
    createOrm: () => createOrm({ connection }),
    drop,
    [Symbol.asyncDispose]: drop,
  };
}
