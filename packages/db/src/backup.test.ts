import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupDatabase, restoreDatabase, verifyBackup, type BackupManifest } from './backup.ts';
import { useTestDatabase } from './testing/index.ts';

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Every table's row count and a digest of its rows in a fixed order: equal digests, equal data. */
async function fingerprint(url: string): Promise<Record<string, string>> {
  const tables = await query<{ name: string }>(
    url,
    `select relname as name from pg_class where relnamespace = 'public'::regnamespace and relkind = 'r'
        and relname <> 'mikro_orm_migrations' order by relname`,
  );
  const result: Record<string, string> = {};
  for (const { name } of tables) {
    const [row] = await query<{ n: string; digest: string | null }>(
      url,
      `select count(*) as n, md5(string_agg(t::text, '|' order by t::text)) as digest from "${name}" t`,
    );
    result[name] = `${row!.n}:${row!.digest ?? '-'}`;
  }
  return result;
}

describe('db:backup and db:restore', () => {
  const source = useTestDatabase();
  const target = useTestDatabase({ empty: true });
  const second = useTestDatabase({ empty: true });
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'threadstore-backup-'));
    // A populated database: users, sessions, messages with generated full-text columns and
    // awkward content (tabs, newlines, backslashes, quotes, Unicode), audit rows, an identity column.
    await query(
      source.db.url,
      `insert into users (issuer, subject, email) select 'test', 'user-' || i, 'u' || i || '@example.com'
         from generate_series(1, 50) i;
       insert into chat_sessions (user_id, title, last_seq)
         select id, E'title\\twith tab', 40 from users;
       insert into chat_messages (session_id, seq, role, content, metadata)
         select s.id, m, case when m % 2 = 0 then 'assistant' else 'user' end,
                E'line one\\nline two \\\\ back\\\\slash "quoted" ✓ é ' || m, jsonb_build_object('m', m)
           from chat_sessions s, generate_series(1, 40) m;
       insert into audit_log (actor_type, action, subject_type, details)
         select 'system', 'test.seed', 'user', jsonb_build_object('i', i) from generate_series(1, 30) i;`,
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('round-trips a populated database: same rows, counts in the manifest, sequences moved on', async () => {
    const backupDir = join(dir, 'one');
    const manifest = await backupDatabase({ url: source.db.url, dir: backupDir });
    const counts = Object.fromEntries(manifest.tables.map((table) => [table.name, table.rows]));
    expect(counts).toMatchObject({ users: 50, chat_sessions: 50, chat_messages: 2_000, audit_log: 30 });
    expect(manifest.migrations.length).toBeGreaterThan(0);
    expect(manifest.checksum).toMatch(/^[0-9a-f]{64}$/);

    const report = await restoreDatabase({ url: target.db.url, dir: backupDir });
    const total = manifest.tables.reduce((sum, table) => sum + table.rows, 0);
    expect(total).toBeGreaterThanOrEqual(50 + 50 + 2_000 + 30); // plus rows the migrations seed
    expect(report).toEqual({ tables: manifest.tables.length, rows: total, laterMigrations: [] });
    expect(await fingerprint(target.db.url)).toEqual(await fingerprint(source.db.url));
    // Identity/serial ids continue after the loaded ones.
    await query(
      target.db.url,
      `insert into audit_log (actor_type, action, subject_type) values ('system', 'after', 'x')`,
    );
  });

  it('refuses a damaged backup and a database that is not empty, writing nothing', async () => {
    const backupDir = join(dir, 'two');
    const manifest: BackupManifest = await backupDatabase({ url: source.db.url, dir: backupDir });
    await expect(restoreDatabase({ url: source.db.url, dir: backupDir })).rejects.toThrow(/not empty/);

    // One changed byte in one table's file.
    const file = join(backupDir, manifest.tables.find((table) => table.name === 'chat_messages')!.file);
    const text = gunzipSync(await readFile(file)).toString('utf8');
    await writeFile(file, gzipSync(text.replace('line one', 'line 0ne')));
    await expect(verifyBackup(backupDir)).rejects.toThrow(/chat_messages\.copy\.gz is damaged/);
    await expect(restoreDatabase({ url: second.db.url, dir: backupDir })).rejects.toThrow(/damaged/);
    const [tables] = await query<{ n: string }>(
      second.db.url,
      `select count(*) as n from pg_class where relnamespace = 'public'::regnamespace and relkind = 'r'`,
    );
    expect(Number(tables!.n)).toBe(0);
  });
});
