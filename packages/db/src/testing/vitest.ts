import type { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, inject } from 'vitest';
import { createTestDatabase, type TestDatabase } from './databases.ts';

export interface TestDatabaseHandle {
  readonly db: TestDatabase;
  readonly orm: MikroORM;
}

/**
 * A database of this test file's own, with an ORM on it, for the tests of the enclosing
 * `describe` (or file): created before them, closed and dropped after them. Read `db` and
 * `orm` inside hooks and tests, not at collection time.
 */
export function useTestDatabase(options: { empty?: boolean } = {}): TestDatabaseHandle {
  let db: TestDatabase | undefined;
  let orm: MikroORM | undefined;
  beforeAll(async () => {
    db = await createTestDatabase(inject('testPostgres'), options);
    orm = await db.createOrm();
  });
  afterAll(async () => {
    await orm?.close();
    await db?.drop();
  });
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useTestDatabase: the database exists only inside hooks and tests');
    return value;
  };
  return {
    get db() {
      return ready(db);
    },
    get orm() {
      return ready(orm);
    },
  };
}
