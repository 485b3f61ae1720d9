import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort, isProcessAlive } from '@threadstore/db';
import { startProcess, type ServiceProcess } from '@threadstore/runtime/testing';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');

describe('bash scripts/start.sh', () => {
  let dir: string | undefined;
  let started: ServiceProcess | undefined;

  afterAll(async () => {
    started?.kill();
    if (dir === undefined) return;
    const postmaster = await readFile(join(dir, 'postgres', 'postmaster.pid'), 'utf8').catch(() => undefined);
    const pid = Number(postmaster?.split('\n')[0]);
    if (pid && isProcessAlive(pid)) process.kill(pid, 'SIGINT');
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves the launcher as the process it started, so SIGTERM to it stops the whole tree gracefully', async () => {
    dir = await mkdtemp(join(tmpdir(), 'threadstore-start-'));
    await chmod(dir, 0o755);
    const apiPort = await findFreePort();
    // What a supervisor does: start the command, keep its pid, signal that pid.
    started = startProcess(
      'bash',
      ['scripts/start.sh'],
      {
        HOME: process.env.HOME ?? '/root',
        EMBEDDED_PG_DIR: join(dir, 'postgres'),
        EMBEDDED_PG_PORT: '0',
        API_HOST: '127.0.0.1',
        API_PORT: String(apiPort),
        LOG_LEVEL: 'info',
        THREADSTORE_ENV_FILE: '/dev/null',
      },
      ROOT,
    );
    // The install and build are no-ops in a checkout that has run them; allow for a slow machine.
    await started.waitFor((l) => l.service === 'api' && l.msg === 'listening', 'api listening', 300_000);
    await started.waitFor((l) => l.service === 'worker' && l.msg === 'worker started', 'worker started', 120_000);
    expect((await fetch(`http://127.0.0.1:${apiPort}/readyz`)).status).toBe(200);
    const postgresPid = Number((await readFile(join(dir, 'postgres', 'postmaster.pid'), 'utf8')).split('\n')[0]);

    started.child.kill('SIGTERM');
    expect(await started.exited(90_000)).toEqual({ code: 0, signal: null });
    expect(
      started.stdout.lines
        .filter((l) => l.msg === 'shutdown complete')
        .map((l) => l.service)
        .sort(),
    ).toEqual(['api', 'worker']);
    expect(isProcessAlive(postgresPid)).toBe(false);
  }, 600_000);
});
