import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SchemaMismatchError } from '@threadstore/db';
import { createTestDatabase, migrationNames, type TestDatabase } from '@threadstore/db/testing';
import { loadConfig } from './config.ts';
import { openServiceDatabase, serviceDatabaseEnvSchema } from './database.ts';
import { createLogger } from './logger.ts';

const logger = createLogger('test', 'silent');

describe('openServiceDatabase', () => {
  let empty: TestDatabase;
  beforeAll(async () => {
    empty = await createTestDatabase(inject('testPostgres'), { empty: true });
  });
  afterAll(() => empty.drop());

  it('refuses a database that lacks this build’s migrations, naming them', async () => {
    const env = loadConfig(serviceDatabaseEnvSchema, { DATABASE_URL: empty.url });
    const failure = await openServiceDatabase(env, 'test', logger).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(SchemaMismatchError);
    expect((failure as SchemaMismatchError).pending).toEqual(migrationNames());
  });

  it('migrates first when MIGRATE_ON_START is set, then opens', async () => {
    const env = loadConfig(serviceDatabaseEnvSchema, { DATABASE_URL: empty.url, MIGRATE_ON_START: 'true' });
    const orm = await openServiceDatabase(env, 'test', logger);
    try {
      const [row] = await orm.em
        .getConnection()
        .execute<{ n: string }[]>('select count(*) as n from retention_policies');
      expect(Number(row!.n)).toBeGreaterThan(0);
    } finally {
      await orm.close();
    }
  });
});
