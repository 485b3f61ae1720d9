import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../embedded-postgres.ts';

export interface TestPostgresServer {
  /** URL of a maintenance database on the server, for CREATE/DROP DATABASE. */
  adminUrl: string;
  /** PostgreSQL major version, e.g. 18. */
  serverVersion: number;
  stop(): Promise<void>;
}

/**
 * The server the test suite runs against: `TEST_DATABASE_URL` when set (CI also runs the suite
 * against the machine's PostgreSQL 15 that way), otherwise a throwaway embedded PostgreSQL 18
 * in a temporary directory on a free port.
 */
export async function startTestPostgres(env: NodeJS.ProcessEnv = process.env): Promise<TestPostgresServer> {
  const external = env.TEST_DATABASE_URL;
  if (external) {
    return { adminUrl: external, serverVersion: await serverMajorVersion(external), stop: async () => {} };
  }
  const dir = await mkdtemp(join(env.THREADSTORE_TEST_PG_DIR ?? tmpdir(), 'threadstore-test-pg-'));
  // mkdtemp makes the directory 0700; as root, postgres runs as the `postgres` user and must
  // be able to reach its data directory inside it.
  await chmod(dir, 0o755);
  const server = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), port: 0, database: 'postgres' });
  return {
    adminUrl: server.adminUrl,
    serverVersion: await serverMajorVersion(server.adminUrl),
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function serverMajorVersion(url: string): Promise<number> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ server_version_num: string }>('show server_version_num');
    return Math.floor(Number(rows[0]!.server_version_num) / 10_000);
  } finally {
    await client.end();
  }
}
