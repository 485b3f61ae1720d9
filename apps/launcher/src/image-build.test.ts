import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findFreePort } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { startServiceProcess, type ServiceProcess } from '@threadstore/runtime/testing';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');
// The Dockerfile's steps, word for word (the first test checks the Dockerfile still says them).
const PRUNE = ['prune', '@threadstore/api', '@threadstore/worker', '@threadstore/db', '@threadstore/web', '--docker'];
const BUILD = [
  'run',
  'build',
  '--filter=@threadstore/api',
  '--filter=@threadstore/worker',
  '--filter=@threadstore/db',
  '--filter=@threadstore/web',
];

const run = (command: string, args: string[], cwd: string) =>
  promisify(execFile)(command, args, {
    cwd,
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });

describe("the image's build, without Docker", () => {
  const testDb = useTestDatabase();
  let dir: string | undefined;
  let api: ServiceProcess | undefined;

  afterAll(async () => {
    api?.kill();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('is what the Dockerfile says', async () => {
    const dockerfile = await readFile(join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain(`turbo@2.11.11 ${PRUNE.join(' ')}`);
    expect(dockerfile).toContain('COPY --from=pruner /app/out/json/ .\nRUN pnpm install --frozen-lockfile\n');
    expect(dockerfile).toContain(`pnpm exec turbo ${BUILD.join(' ')}`);
  });

  it('prunes, installs from the pruned lockfile offline, builds, and serves a ready API', async () => {
    dir = await mkdtemp(join(tmpdir(), 'threadstore-image-'));
    const out = join(dir, 'out');
    const app = join(dir, 'app');
    await run(join(ROOT, 'node_modules', '.bin', 'turbo'), [...PRUNE, `--out-dir=${out}`], ROOT);

    await mkdir(app);
    await cp(join(out, 'json'), app, { recursive: true });
    // --offline: every package must come from the pruned lockfile and the local store, as in the
    // image's cached install layer; a manifest the prune forgot fails here.
    await run('pnpm', ['install', '--frozen-lockfile', '--offline'], app);
    await cp(join(out, 'full'), app, { recursive: true });
    await cp(join(ROOT, 'tsconfig.base.json'), join(app, 'tsconfig.base.json'));
    await run('pnpm', ['exec', 'turbo', ...BUILD, '--output-logs=errors-only'], app);

    // The image's default command, against a migrated database.
    const port = await findFreePort();
    api = startServiceProcess(
      join(app, 'apps', 'api', 'dist', 'main.js'),
      { DATABASE_URL: testDb.db.url, API_HOST: '127.0.0.1', API_PORT: String(port), NODE_ENV: 'production' },
      app,
    );
    await api.waitFor((line) => line.msg === 'listening', 'api listening', 120_000);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });
    // The web app, built in the image, at /.
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<div id="root">');
    api.child.kill('SIGTERM');
    expect((await api.exited(30_000)).code).toBe(0);
  }, 900_000);
});
