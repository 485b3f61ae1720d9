import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Guards against the worst test-suite failure: red tests, green exit code. It happened here:
 * the embedded PostgreSQL package's exit hook called process.exit(0) and a failing run exited 0
 * (see loadEmbeddedPostgres). This runs a suite that fails, with our global setup, and checks.
 */
describe('the test harness', () => {
  it('exits non-zero when a test fails', () => {
    const vitest = join(createRequire(import.meta.url).resolve('vitest/package.json'), '..', 'vitest.mjs');
    const config = join(import.meta.dirname, '..', 'test', 'fixtures', 'failing-suite', 'vitest.config.ts');
    const run = spawnSync(process.execPath, [vitest, 'run', '--config', config], {
      encoding: 'utf8',
      env: { ...process.env, VITEST: undefined, VITEST_WORKER_ID: undefined, VITEST_POOL_ID: undefined },
      timeout: 120_000,
    });
    expect(run.stdout + run.stderr).toMatch(/1 failed/);
    expect(run.status).toBe(1);
  });
});
