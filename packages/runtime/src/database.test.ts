import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SchemaMismatchError } from '@threadstore/db';
import { createTestDatabase, migrationNames, type TestDatabase } from '@threadstore/db/testing';
import { loadConfig } from './config.ts';
import { openServiceDatabase, serviceDatabaseEnvSchema } from './database.ts';
import { createLogger } from './logger.ts';
import { captureLogs } from './testing/index.ts';

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

  it('logs each SQL statement with its timing when DATABASE_DEBUG is on, and none when off', async () => {
    for (const debug of ['true', 'false']) {
      const { logger: captured, logs } = captureLogs('test', 'info');
      const env = loadConfig(serviceDatabaseEnvSchema, {
        DATABASE_URL: empty.url,
        MIGRATE_ON_START: 'true',
        DATABASE_DEBUG: debug,
      });
      const orm = await openServiceDatabase(env, 'test', captured);
      try {
        await orm.em.getConnection().execute('select 42 as answer');
        const queries = logs.lines.filter(
          (line) => line.component === 'orm' && /select 42 as answer/.test(line.msg ?? ''),
        );
        if (debug === 'true') {
          expect(queries).toEqual([
            expect.objectContaining({ level: 'info', msg: expect.stringMatching(/took \d+ ms/) }),
          ]);
        } else {
          expect(queries).toEqual([]);
        }
      } finally {
        await orm.close();
      }
    }
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
