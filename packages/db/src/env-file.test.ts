import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from './testing/index.ts';

const MIGRATE = join(import.meta.dirname, 'bin', 'migrate.ts');

describe('.env', () => {
  const testDb = useTestDatabase();
  let workspace: string;

  beforeAll(async () => {
    // A workspace root with a .env, and an entry point started from a package folder below it.
    workspace = await mkdtemp(join(tmpdir(), 'threadstore-env-'));
    await writeFile(join(workspace, 'pnpm-workspace.yaml'), 'packages: []\n');
  });
  afterAll(() => rm(workspace, { recursive: true, force: true }));

  const migrateStatus = (env: Record<string, string>) =>
    promisify(execFile)(process.execPath, [MIGRATE, 'status'], {
      cwd: workspace,
      env: { PATH: process.env.PATH, ...env },
    }).then(
      ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  it("is read by an entry point with Node's parser: quotes, comments and export, the environment winning", async () => {
    // A password with a space, a `#` and a `$` would be mangled by a shell `read` loop.
    await writeFile(
      join(workspace, '.env'),
      [
        '# comment',
        `export DATABASE_URL="${testDb.db.url}"`,
        `DATABASE_POOL_MAX='3'`,
        'DATABASE_STATEMENT_TIMEOUT_MS="not a number # from the file"',
      ].join('\n'),
    );
    // The file's broken timeout loses to the environment's.
    const ok = await migrateStatus({ DATABASE_STATEMENT_TIMEOUT_MS: '0' });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout.trim())).toMatchObject({ msg: 'migration status', pending: [] });

    // Without the environment's value the file's quoted value (comment included) is what is read.
    const refused = await migrateStatus({});
    expect(refused.code).toBe(78);
    expect(refused.stderr).toContain('DATABASE_STATEMENT_TIMEOUT_MS');
  });

  it('is optional', async () => {
    await rm(join(workspace, '.env'));
    const result = await migrateStatus({ DATABASE_URL: testDb.db.url });
    expect(result.code).toBe(0);
  });
});
