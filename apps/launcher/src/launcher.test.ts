import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort, isProcessAlive } from '@threadstore/db';
import { startServiceProcess, type ServiceProcess } from '@threadstore/runtime/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const MAIN = join(import.meta.dirname, 'main.ts');

describe('launcher', () => {
  let dir: string;
  let launcher: ServiceProcess | undefined;
  let apiPort: number;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'threadstore-launcher-'));
    await chmod(dir, 0o755);
    apiPort = await findFreePort();
    // The launcher as a person runs it (`scripts/start.sh` ends in it): an embedded PostgreSQL on
    // a fresh data directory, the real API and worker as its children, sharing its stdout.
    launcher = startServiceProcess(MAIN, {
      EMBEDDED_PG_DIR: join(dir, 'postgres'),
      EMBEDDED_PG_PORT: '0',
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      LOG_LEVEL: 'info',
      LAUNCHER_MAX_RESTARTS: '2',
      LAUNCHER_RESTART_BACKOFF_MS: '200',
    });
    await launcher.waitFor((l) => l.service === 'api' && l.msg === 'listening', 'api listening', 90_000);
    await launcher.waitFor((l) => l.service === 'worker' && l.msg === 'worker started', 'worker started', 90_000);
  });

  afterEach(async () => {
    if (launcher && launcher.child.exitCode === null) {
      launcher.kill();
      await launcher.exited();
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
    expect((await launcher!.exited(60_000)).code).toBe(0);
    expect(
      launcher!.stdout.lines
        .filter((l) => l.msg === 'shutdown complete')
        .map((l) => l.service)
        .sort(),
    ).toEqual(['api', 'worker']);
    expect(isProcessAlive(postgresPid)).toBe(false);
    expect(launcher!.stdout.notJson).toEqual([]);
  });

  it('restarts a crashed app with PostgreSQL kept up, and gives up after repeated crashes', async () => {
    const postgresPid = Number((await readFile(join(dir, 'postgres', 'postmaster.pid'), 'utf8')).split('\n')[0]);
    const apiPids = () =>
      launcher!.stdout.lines.filter((l) => l.service === 'api' && l.msg === 'listening').map((l) => Number(l.pid));

    process.kill(apiPids()[0]!, 'SIGKILL');
    await launcher!.waitFor(() => apiPids().length === 2, 'api restarted', 90_000);
    const ready = await fetch(`http://127.0.0.1:${apiPort}/readyz`);
    expect(ready.status).toBe(200);
    expect(isProcessAlive(postgresPid)).toBe(true);
    expect(launcher!.child.exitCode).toBeNull();

    // Two restarts allowed: the third crash in a row ends it.
    process.kill(apiPids()[1]!, 'SIGKILL');
    await launcher!.waitFor(() => apiPids().length === 3, 'api restarted again', 90_000);
    process.kill(apiPids()[2]!, 'SIGKILL');
    expect((await launcher!.exited(60_000)).code).toBe(1);
    const launcherLines = launcher!.stdout.lines.filter((l) => l.service === 'launcher').map((l) => String(l.msg));
    expect(launcherLines.filter((msg) => msg === 'api exited unexpectedly; restarting it')).toHaveLength(2);
    expect(launcherLines).toContain('api keeps crashing; giving up and stopping everything');
    expect(launcher!.stdout.lines.some((l) => l.service === 'worker' && l.msg === 'shutdown complete')).toBe(true);
    expect(isProcessAlive(postgresPid)).toBe(false);
  });
});
