import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { connectionSettingsFromUrl } from './connection.ts';
import { createOrm, getMigrationStatus, migrate } from './orm.ts';

/**
 * A logical backup of the data model, written with COPY inside one REPEATABLE READ READ ONLY
 * transaction, so every table is read from the same snapshot (a message never appears without its
 * session, counts add up) while the API keeps writing. COPY rather than pg_dump: pg_dump refuses a
 * server newer than itself, and the embedded PostgreSQL 18 ships without one. The schema is not in
 * the backup: it is what the migrations named in the manifest create, so a restore runs them.
 *
 * Layout: `<dir>/manifest.json` and one gzip'd COPY text file per table. The manifest holds each
 * table's row count, byte count and SHA-256 (of the uncompressed COPY text), and a checksum over
 * all of them, so a restore can refuse a damaged or incomplete backup before it writes anything.
 */
export interface BackupManifest {
  format: typeof FORMAT;
  createdAt: string;
  serverVersion: string;
  /** Migrations applied when the backup was taken, in order; the restore applies exactly these first. */
  migrations: string[];
  tables: BackupTable[];
  /** SHA-256 over the migrations and every table's name, columns, rows and SHA-256. */
  checksum: string;
}

export interface BackupTable {
  name: string;
  /** Generated columns are left out: the restore's schema computes them again. */
  columns: string[];
  rows: number;
  bytes: number;
  sha256: string;
  file: string;
}

const FORMAT = 'threadstore-backup/1';
const MIGRATIONS_TABLE = 'mikro_orm_migrations';

export class BackupError extends Error {
  override name = 'BackupError';
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: 'threadstore-backup' });
  await client.connect();
  return client;
}

/** Counts rows (COPY text has exactly one line per row) and hashes what passes through. */
class Digest extends Transform {
  readonly hash = createHash('sha256');
  rows = 0;
  bytes = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) this.rows += 1;
    callback(null, chunk);
  }
}

async function tablesOf(client: pg.Client): Promise<{ name: string; columns: string[] }[]> {
  const { rows } = await client.query<{ name: string; columns: string[] }>(
    `select c.relname as name,
            array_agg(a.attname::text order by a.attnum) as columns
       from pg_class c
       join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
      where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p') and not c.relispartition
        and c.relname <> $1
      group by c.relname
      order by c.relname`,
    [MIGRATIONS_TABLE],
  );
  return rows;
}

const quoted = (client: pg.Client, names: string[]) => names.map((name) => client.escapeIdentifier(name)).join(', ');

function manifestChecksum(migrations: string[], tables: BackupTable[]): string {
  const hash = createHash('sha256');
  for (const name of migrations) hash.update(`migration ${name}\n`);
  for (const t of tables) hash.update(`table ${t.name} ${t.columns.join(',')} ${t.rows} ${t.bytes} ${t.sha256}\n`);
  return hash.digest('hex');
}

/** Writes a backup of the database at `url` into `dir` (created; must not hold a backup already). */
export async function backupDatabase({ url, dir }: { url: string; dir: string }): Promise<BackupManifest> {
  await mkdir(dir, { recursive: true });
  const client = await connect(url);
  try {
    // One snapshot for every table; READ ONLY so a backup can never change what it reads.
    await client.query('begin isolation level repeatable read read only');
    const version = await client.query<{ v: string }>('select version() as v');
    const migrations = (
      await client.query<{ name: string }>(`select name from ${MIGRATIONS_TABLE} order by id`)
    ).rows.map((row) => row.name);
    const tables: BackupTable[] = [];
    for (const { name, columns } of await tablesOf(client)) {
      const file = `${name}.copy.gz`;
      const digest = new Digest();
      const source = client.query(
        copyTo(`copy ${client.escapeIdentifier(name)} (${quoted(client, columns)}) to stdout`),
      );
      await pipeline(source, digest, createGzip(), createWriteStream(join(dir, file), { flags: 'wx' }));
      tables.push({ name, columns, rows: digest.rows, bytes: digest.bytes, sha256: digest.hash.digest('hex'), file });
    }
    await client.query('commit');
    const manifest: BackupManifest = {
      format: FORMAT,
      createdAt: new Date().toISOString(),
      serverVersion: version.rows[0]!.v,
      migrations,
      tables,
      checksum: manifestChecksum(migrations, tables),
    };
    // Written last: a backup without its manifest is visibly incomplete.
    await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, { flag: 'wx' });
    return manifest;
  } finally {
    await client.end();
  }
}

/** Reads and checks a backup's manifest and every file against it, writing nothing anywhere. */
export async function verifyBackup(dir: string): Promise<BackupManifest> {
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as BackupManifest;
  if (manifest.format !== FORMAT) throw new BackupError(`unknown backup format "${String(manifest.format)}"`);
  if (manifestChecksum(manifest.migrations, manifest.tables) !== manifest.checksum) {
    throw new BackupError('the manifest does not match its checksum: it was edited or damaged');
  }
  for (const table of manifest.tables) {
    const digest = new Digest();
    await pipeline(
      createReadStream(join(dir, table.file)),
      createGunzip(),
      digest,
      async (chunks: AsyncIterable<Buffer>) => {
        for await (const _chunk of chunks); // only the digest is wanted
      },
    );
    const actual = digest.hash.digest('hex');
    if (actual !== table.sha256 || digest.rows !== table.rows) {
      throw new BackupError(
        `${table.file} is damaged: ${digest.rows} rows with SHA-256 ${actual}, the manifest says ${table.rows} rows with ${table.sha256}`,
      );
    }
  }
  return manifest;
}

/**
 * Parents before children, so every foreign key finds its row while the COPYs run (a
 * self-reference is checked at the end of its own COPY, so order within a table does not matter).
 */
async function loadOrder(client: pg.Client, names: string[]): Promise<string[]> {
  const { rows } = await client.query<{ child: string; parent: string }>(
    `select child.relname as child, parent.relname as parent
       from pg_constraint k
       join pg_class child on child.oid = k.conrelid
       join pg_class parent on parent.oid = k.confrelid
      where k.contype = 'f' and k.connamespace = 'public'::regnamespace and k.conrelid <> k.confrelid`,
  );
  const ordered: string[] = [];
  const visiting = new Set<string>();
  const visit = (name: string) => {
    if (ordered.includes(name)) return;
    if (visiting.has(name)) throw new BackupError(`foreign keys form a cycle through "${name}"`);
    visiting.add(name);
    for (const { parent } of rows.filter((row) => row.child === name)) visit(parent);
    visiting.delete(name);
    ordered.push(name);
  };
  for (const name of names) visit(name);
  return ordered.filter((name) => names.includes(name));
}

export interface RestoreReport {
  tables: number;
  rows: number;
  /** Migrations newer than the backup, applied after its data was loaded. */
  laterMigrations: string[];
}

/**
 * Restores a backup into an empty database (run as the schema's owner): checks every file first,
 * applies the backup's migrations, loads every table in one transaction (all or nothing), moves
 * the sequences past the loaded ids, checks every table's row count against the manifest, and
 * finally applies any migration this build has that the backup's did not.
 */
export async function restoreDatabase({ url, dir }: { url: string; dir: string }): Promise<RestoreReport> {
  const manifest = await verifyBackup(dir);
  const client = await connect(url);
  try {
    const existing = await client.query(
      `select 1 from pg_class where relnamespace = 'public'::regnamespace and relkind in ('r', 'p') limit 1`,
    );
    if (existing.rowCount) throw new BackupError('the target database is not empty; restore only into an empty one');

    const orm = await createOrm({ connection: { ...connectionSettingsFromUrl(url), statementTimeoutMs: 0 } });
    try {
      const shipped = [...(await getMigrationStatus(orm)).pending];
      const unknown = manifest.migrations.filter((name) => !shipped.includes(name));
      if (unknown.length > 0) {
        throw new BackupError(`the backup needs migrations this build does not have: ${unknown.join(', ')}`);
      }
      const last = manifest.migrations.at(-1);
      if (last !== undefined) await migrate(orm, { to: last });
    } finally {
      await orm.close();
    }

    await client.query('begin');
    let rows = 0;
    const byName = new Map(manifest.tables.map((table) => [table.name, table]));
    // Migrations seed rows of their own (the default retention policies); the backup holds those
    // rows as they were, edits included, so the seeded ones make way for them.
    await client.query(`truncate ${quoted(client, [...byName.keys()])}`);
    // Indexes that back no constraint (full-text GIN, secondary B-trees) are built once after the
    // load, as pg_restore does, instead of row by row: with them in place a restore is many times
    // slower. Constraint indexes stay, the foreign keys checked during the load need them.
    const secondary = (
      await client.query<{ name: string; definition: string }>(
        `select quote_ident(c.relname) as name, pg_get_indexdef(i.indexrelid) as definition
           from pg_index i join pg_class c on c.oid = i.indexrelid
          where c.relnamespace = 'public'::regnamespace
            and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)`,
      )
    ).rows;
    for (const { name } of secondary) await client.query(`drop index ${name}`);
    for (const name of await loadOrder(client, [...byName.keys()])) {
      const table = byName.get(name)!;
      const target = client.query(
        copyFrom(`copy ${client.escapeIdentifier(name)} (${quoted(client, table.columns)}) from stdin`),
      );
      await pipeline(createReadStream(join(dir, table.file)), createGunzip(), target);
      const count = await client.query<{ n: string }>(`select count(*) as n from ${client.escapeIdentifier(name)}`);
      if (Number(count.rows[0]!.n) !== table.rows) {
        throw new BackupError(`${name}: loaded ${count.rows[0]!.n} rows, the manifest says ${table.rows}`);
      }
      rows += table.rows;
    }
    for (const { definition } of secondary) await client.query(definition);
    // Serial and identity sequences start after the highest id loaded, or the next insert collides.
    const sequences = await client.query<{ tbl: string; col: string; seq: string }>(
      `select c.relname as tbl, a.attname as col, pg_get_serial_sequence(quote_ident(c.relname), a.attname) as seq
         from pg_class c join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
          and pg_get_serial_sequence(quote_ident(c.relname), a.attname) is not null`,
    );
    for (const { tbl, col, seq } of sequences.rows) {
      await client.query(
        `select setval($1::regclass, coalesce((select max(${client.escapeIdentifier(col)}) from ${client.escapeIdentifier(tbl)}), 0) + 1, false)`,
        [seq],
      );
    }
    await client.query('commit');

    const orm2 = await createOrm({ connection: { ...connectionSettingsFromUrl(url), statementTimeoutMs: 0 } });
    try {
      const laterMigrations = await migrate(orm2);
      return { tables: manifest.tables.length, rows, laterMigrations };
    } finally {
      await orm2.close();
    }
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
}
