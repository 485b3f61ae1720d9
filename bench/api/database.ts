import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connectionSettingsFromUrl, createOrm, migrate, startEmbeddedPostgres } from '@threadstore/db';
import pg from 'pg';

export interface BenchDatabase {
  /** The freshly created and migrated benchmark database. */
  url: string;
  /** Pid of the postmaster when it runs on this machine (to attribute its CPU), else null. */
  postmasterPid: number | null;
  stop(): Promise<void>;
}

/** BENCH_DATABASE overrides it, so benchmarks of several branches can share one server. */
const BENCH_DATABASE = process.env.BENCH_DATABASE ?? 'threadstore_bench_api';

/**
 * Server settings of the embedded server. Everything else is PostgreSQL's default, durability
 * included (fsync and synchronous_commit on): a bigger buffer cache than the 128 MB default so
 * the ~1.5 GB data set is served from memory as on a sized production box, and fewer forced
 * checkpoints during the bulk-import rounds.
 */
export const EMBEDDED_SETTINGS = ['shared_buffers=1GB', 'max_wal_size=4GB'];

/**
 * The server the benchmark runs on: `adminUrl` when given (any database on that server; the
 * benchmark only creates, and replaces, its own `threadstore_bench_api`), otherwise an embedded
 * PostgreSQL 18 kept under bench/.data so its initdb is paid once.
 */
export async function openBenchDatabase(
  adminUrl: string | undefined,
  log: (line: string) => void,
  // Another benchmark (bench/maintenance) passes its own names, so the two can run side by side.
  // `keep`: an existing database of that name is migrated and reused, not replaced (a benchmark
  // whose seeding takes longer than its measurement can seed once and measure several times).
  {
    database = BENCH_DATABASE,
    dataDirName = 'postgres',
    keep = false,
  }: { database?: string; dataDirName?: string; keep?: boolean } = {},
): Promise<BenchDatabase & { reused: boolean }> {
  let server: { adminUrl: string; stop(): Promise<void>; dataDir: string | null };
  if (adminUrl === undefined) {
    const dir = join(import.meta.dirname, '..', '.data');
    await mkdir(dir, { recursive: true });
    // As root the embedded server runs as `postgres`, which must be able to reach its directory.
    await chmod(dir, 0o755);
    const embedded = await startEmbeddedPostgres({
      dataDir: join(dir, dataDirName),
      port: 0,
      database: 'postgres',
      postgresFlags: EMBEDDED_SETTINGS.flatMap((setting) => ['-c', setting]),
    });
    server = { adminUrl: embedded.adminUrl, stop: () => embedded.stop(), dataDir: embedded.dataDir };
  } else {
    server = { adminUrl, stop: async () => {}, dataDir: null };
  }

  try {
    const admin = new pg.Client({ connectionString: server.adminUrl });
    await admin.connect();
    let dataDir = server.dataDir;
    let reused = false;
    try {
      reused = keep && (await admin.query(`select from pg_database where datname = $1`, [database])).rows.length === 1;
      if (!reused) {
        await admin.query(`drop database if exists ${database} with (force)`);
        await admin.query(`create database ${database}`);
      }
      dataDir ??= (await admin.query<{ setting: string }>(`show data_directory`)).rows[0]!.setting;
    } finally {
      await admin.end();
    }
    const url = new URL(server.adminUrl);
    url.pathname = `/${database}`;
    const orm = await createOrm({ connection: connectionSettingsFromUrl(url.toString(), 'threadstore-bench') });
    try {
      log(`migrated: ${(await migrate(orm)).length} migration(s)`);
    } finally {
      await orm.close();
    }
    return { url: url.toString(), postmasterPid: await postmasterPid(dataDir), stop: () => server.stop(), reused };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** First line of postmaster.pid; null when the server is elsewhere (its directory is not ours to read). */
async function postmasterPid(dataDir: string): Promise<number | null> {
  try {
    const pid = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n', 1)[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
