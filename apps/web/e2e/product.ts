import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** The repository root (apps/web/e2e → ../../..). */
export const REPOSITORY_ROOT = join(import.meta.dirname, '..', '..', '..');
const LAUNCHER = join(REPOSITORY_ROOT, 'apps', 'launcher', 'dist', 'main.js');
const WEB_DIST = join(REPOSITORY_ROOT, 'apps', 'web', 'dist', 'index.html');

/** Debian's Chromium (`apt-get install -y chromium`); browsers cannot be downloaded here. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface RunningProduct {
  /** The page and the API, on one origin: `http://127.0.0.1:<port>`. */
  url: string;
  /** Everything the launcher printed so far (JSON log lines), for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

export interface ProductOptions {
  /** Extra environment for the launcher and, through it, the API and the worker. */
  env?: Record<string, string>;
  /** How long to wait for /readyz. */
  timeoutMs?: number;
}

/** A free TCP port on 127.0.0.1 (the OS picks; closed again before it is used). */
/** The launcher's embedded database as the API connects to it: its fixed local-only role password and database name. */
export const embeddedApiUrl = (port: number) =>
  `postgresql://threadstore_api:threadstore-local@127.0.0.1:${port}/threadstore`;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Starts the product as `bash scripts/start.sh` runs it (the built launcher: an embedded
 * PostgreSQL in a temporary data directory, migrations, the API serving the page, the worker)
 * and resolves once /readyz says ready. Built files must exist: turbo builds them before `test`.
 */
export async function startProduct({ env = {}, timeoutMs = 180_000 }: ProductOptions = {}): Promise<RunningProduct> {
  for (const [file, what] of [
    [LAUNCHER, 'the launcher'],
    [WEB_DIST, 'the web app'],
  ] as const) {
    if (!existsSync(file)) throw new Error(`${what} is not built (${file}): run \`pnpm exec turbo run build\``);
  }
  const work = await mkdtemp(join(tmpdir(), 'threadstore-e2e-'));
  // The embedded PostgreSQL runs as an unprivileged user when we are root: it must reach the folder.
  await chmod(work, 0o755);
  const port = await freePort();
  const envFile = join(work, 'empty.env');
  await writeFile(envFile, '');
  let log = '';
  // The embedded PostgreSQL, whatever the calling shell points at.
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const launcher: ChildProcess = spawn(process.execPath, [LAUNCHER], {
    cwd: REPOSITORY_ROOT,
    env: {
      ...inherited,
      // The repository's .env must not leak into a test run.
      THREADSTORE_ENV_FILE: envFile,
      EMBEDDED_PG_DIR: join(work, 'postgres'),
      EMBEDDED_PG_PORT: '0',
      API_HOST: '127.0.0.1',
      API_PORT: String(port),
      LOG_LEVEL: 'info',
      // Every browser of a test run calls from 127.0.0.1.
      RATE_LIMIT_PER_MINUTE: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  launcher.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  launcher.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => launcher.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;

  const stop = async () => {
    if (launcher.exitCode === null && launcher.signalCode === null) {
      launcher.kill('SIGTERM');
      const timer = setTimeout(() => launcher.kill('SIGKILL'), 40_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(work, { recursive: true, force: true });
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (launcher.exitCode !== null) {
      await stop();
      throw new Error(`the launcher exited with ${launcher.exitCode} before it was ready:\n${log}`);
    }
    const ready = await fetch(`${url}/readyz`).then(
      (response) => response.ok && log.includes('worker started'),
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the product was not ready within ${timeoutMs} ms:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { url, output: () => log, stop };
}

/** Debian's Chromium, headless. Says how to get it when it is missing rather than skipping. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM_PATH}: install it with \`apt-get install -y chromium\` ` +
        '(or set CHROMIUM_PATH). The end-to-end tests need it and cannot download a browser.',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // Root in a container has no user namespace for Chromium's sandbox.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}
