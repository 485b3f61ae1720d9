import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const workerDir = join(import.meta.dirname, '..');

/** `node src/cli/main.ts …` against a test database, as an operator would run `pnpm jobs …`. */
export async function jobsCli(databaseUrl: string, bossSchema: string, ...args: string[]) {
  const env = { PATH: process.env.PATH, DATABASE_URL: databaseUrl, PGBOSS_SCHEMA: bossSchema, LOG_LEVEL: 'warn' };
  return promisify(execFile)(process.execPath, ['src/cli/main.ts', ...args], { cwd: workerDir, env }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      stdout: error.stdout,
      stderr: error.stderr,
    }),
  );
}
