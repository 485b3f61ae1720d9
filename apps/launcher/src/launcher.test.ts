import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { findFreePort, isProcessAlive } from '@threadstore/db';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const MAIN = join(import.meta.dirname, 'main.ts');

interface LogLine {
  service?: string;
  msg?: string;
  pid?: number;
  [key: string]: unknown;
}

/**
 * The launcher as a person runs it (`scripts/start.sh` ends in it): a real process, an embedded
 * PostgreSQL on a fresh data directory, the real API and worker as its children.
 */
class LauncherProcess {
  readonly lines: LogLine[] = [];
  readonly child: ChildProcess;
  private waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];

  constructor(env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      createInterface({ input: stream }).on('line', (raw) => {
        let line: LogLine;
        try {
          line = JSON.parse(raw) as LogLine;
        } catch {
          line = { msg: raw, unstructured: true };
        }
        this.lines.push(line);
        this.waiters = this.waiters.filter((w) => (w.match(line) ? (w.resolve(line), false) : true));
      });
    }
  }

  waitFor(match: (l: LogLine) => boolean, what: string, timeoutMs = 90_000): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no "${what}" within ${timeoutMs} ms; got:\n${JSON.stringify(this.lines, null, 1)}`)),
        timeoutMs,
      );
      this.waiters.push({ match, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  }

  exit(timeoutMs = 60_000): Promise<number | null> {
    if (this.child.exitCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('launcher did not exit in time')), timeoutMs);
      this.child.once('exit', (code) => (clearTimeout(timer), resolve(code)));
    });
  }
}

describe('launcher', () => {
  let dir: string;
  let launcher: LauncherProcess | undefined;
  let apiPort: number;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'threadstore-launcher-'));
    await chmod(dir, 0o755);
    apiPort = await findFreePort();
    launcher = new LauncherProcess({
      PATH: process.env.PATH,
      EMBEDDED_PG_DIR: join(dir, 'postgres'),
      EMBEDDED_PG_PORT: '0',
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      LOG_LEVEL: 'info',
    });
    await launcher.waitFor((l) => l.service === 'api' && l.msg === 'listening', 'api listening');
    await launcher.waitFor((l) => l.service === 'worker' && l.msg === 'worker started', 'worker started');
  });

  afterEach(async () => {
    if (launcher && launcher.child.exitCode === null) {
      launcher.child.kill('SIGKILL');
      await launcher.exit();
    }
    // Whatever the test did, no PostgreSQL may outlive it.
    const postmaster = await readFile(join(dir, 'postgres', 'postmaster.pid'), 'utf8').catch(() => undefined);
    const pid = Number(postmaster?.split('\n')[0]);
    if (pid && isProcessAlive(pid)) process.kill(pid, 'SIGINT');
    await rm(dir, { recursive: true, force: true });
  });

  it('brings up the API and the worker on an embedded PostgreSQL, ready, then stops it all on SIGTERM', async () => {
    const ready = await fetch(`http://127.0.0.1:${apiPort}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', database: { reachable: true, pendingMigrations: [] } });
    const postgresPid = Number((await readFile(join(dir, 'postgres', 'postmaster.pid'), 'utf8')).split('\n')[0]);

    launcher!.child.kill('SIGTERM');
    expect(await launcher!.exit()).toBe(0);
    expect(
      launcher!.lines
        .filter((l) => l.msg === 'shutdown complete')
        .map((l) => l.service)
        .sort(),
    ).toEqual(['api', 'worker']);
    expect(isProcessAlive(postgresPid)).toBe(false);
    expect(launcher!.lines.filter((l) => l.unstructured)).toEqual([]);
  });

  it('stops everything and exits 1 when an app dies on its own', async () => {
    const api = launcher!.lines.find((l) => l.service === 'api' && l.msg === 'listening')!;
    process.kill(api.pid!, 'SIGKILL');
    expect(await launcher!.exit()).toBe(1);
    expect(launcher!.lines.some((l) => l.service === 'launcher' && /api exited unexpectedly/.test(String(l.msg)))).toBe(
      true,
    );
    expect(launcher!.lines.some((l) => l.service === 'worker' && l.msg === 'shutdown complete')).toBe(true);
  });
});
