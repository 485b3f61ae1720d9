import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MikroORM } from '@mikro-orm/postgresql';
import {
  assertSchemaCurrent,
  assertSupportedServer,
  checkServerVersion,
  getMigrationStatus,
  migrate,
  SchemaMismatchError,
  UnsupportedServerError,
} from './orm.ts';
import { createTestDatabase, type TestDatabase } from './testing/index.ts';

const EXPECTED_TABLES = [
  'academy_badges',
  'academy_conversations',
  'academy_missions',
  'academy_user_badges',
  'academy_user_missions',
  'academy_users',
  'academy_weekly_xp',
  'academy_xp_rollup_state',
  'academy_xp_transactions',
  'account_erasures',
  'api_keys',
  'audit_log',
  'chat_message_search',
  'chat_message_search_queue',
  'chat_message_versions',
  'chat_messages',
  'chat_sessions',
  'chat_turns',
  'entity_nodes',
  'entity_relationships',
  'investigation_entities',
  'investigation_findings',
  'investigation_sessions',
  'investigations',
  'knowledge_chunks',
  'knowledge_entries',
  'maintenance_runs',
  'memories',
  'message_clears',
  'message_ratings',
  'projects',
  'rate_limits',
  'retention_policies',
  'session_shares',
  'stats_snapshots',
  'users',
];

describe('migrations on an empty database', () => {
  let db: TestDatabase;
  let orm: MikroORM;

  beforeAll(async () => {
    db = await createTestDatabase(inject('testPostgres'), { empty: true });
    orm = await db.createOrm();
  });
  afterAll(async () => {
    await orm.close();
    await db.drop();
  });

  it('reports every migration as pending and refuses the schema before they run', async () => {
    const status = await getMigrationStatus(orm);
    expect(status.executed).toEqual([]);
    expect(status.pending.length).toBeGreaterThan(0);
    await expect(assertSchemaCurrent(orm)).rejects.toBeInstanceOf(SchemaMismatchError);
  });

  it('applies, and a second run is a no-op', async () => {
    const applied = await migrate(orm);
    expect(applied.length).toBeGreaterThan(0);
    expect(await migrate(orm)).toEqual([]);
    expect((await getMigrationStatus(orm)).pending).toEqual([]);
    await assertSchemaCurrent(orm);
  });

  it('creates every table of the data model', async () => {
    const rows = await orm.em
      .getConnection()
      .execute<{ table_name: string }[]>(
        `select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' and table_name <> 'mikro_orm_migrations' order by 1`,
      );
    expect(rows.map((r) => r.table_name)).toEqual(EXPECTED_TABLES);
  });

  it('leaves no difference between the entities and the migrated schema', async () => {
    const diff = await orm.schema.getUpdateSchemaSQL({ wrap: false });
    expect(diff.trim()).toBe('');
  });

  it('seeds the global retention defaults, with 90 days for inactive sessions', async () => {
    const rows = await orm.em
      .getConnection()
      .execute<{ target: string; keep_for_days: number }[]>(
        `select target, keep_for_days from retention_policies where scope = 'global' order by target`,
      );
    expect(Object.fromEntries(rows.map((r) => [r.target, r.keep_for_days]))).toEqual({
      anonymous_sessions: 30,
      episodic_memories: 30,
      inactive_sessions: 90,
      short_term_memories: 1,
      soft_deleted: 30,
    });
  });

  it('runs concurrent migrate() calls one at a time (advisory lock)', async () => {
    const fresh = await createTestDatabase(inject('testPostgres'), { empty: true });
    const [a, b] = await Promise.all([fresh.createOrm(), fresh.createOrm()]);
    try {
      const results = await Promise.all([migrate(a), migrate(b)]);
      // Exactly one of the two applied the migrations; the other found nothing pending.
      expect(results.map((r) => r.length).sort()).toEqual([0, results.flat().length]);
      expect((await getMigrationStatus(a)).pending).toEqual([]);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await fresh.drop();
    }
  });
});

describe('server version check', () => {
  it('refuses PostgreSQL 14 and older by name, and accepts 15 through 18 and newer', () => {
    expect(() => checkServerVersion(140_011)).toThrow(UnsupportedServerError);
    expect(() => checkServerVersion(140_011)).toThrow(
      /PostgreSQL 14 is not supported; Threadstore needs PostgreSQL 15 or newer/,
    );
    for (const version of [150_000, 160_004, 170_002, 180_004, 190_000])
      expect(() => checkServerVersion(version)).not.toThrow();
  });

  it('accepts the server this suite runs on', async () => {
    const db = await createTestDatabase(inject('testPostgres'));
    const orm = await db.createOrm();
    try {
      await expect(assertSupportedServer(orm)).resolves.toBeUndefined();
    } finally {
      await orm.close();
      await db.drop();
    }
  });
});
