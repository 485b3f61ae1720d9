import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, migrationNames, type TestDatabase } from '@threadstore/db/testing';
import { startServiceProcess, type ServiceProcess } from '@threadstore/runtime/testing';

const API_DIR = fileURLToPath(new URL('..', import.meta.url));
// Generous, because two cores may be busy with other suites; a healthy start takes about a second.
const START_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 15_000;

const running = new Set<ServiceProcess>();

/** Runs `node src/main.ts` with exactly this environment (plus PATH), as a deployment would. */
function startApi(env: Record<string, string>): ServiceProcess {
  const api = startServiceProcess('src/main.ts', env, API_DIR);
  running.add(api);
  return api;
}

const baseEnv = { API_HOST: '127.0.0.1', API_PORT: '0', LOG_LEVEL: 'info', NODE_ENV: 'production' };

afterEach(() => {
  for (const api of running) api.kill();
  running.clear();
});

describe('the API process', () => {
  let migrated: TestDatabase;
  let unmigrated: TestDatabase;
  beforeAll(async () => {
    [migrated, unmigrated] = await Promise.all([
      createTestDatabase(inject('testPostgres')),
      createTestDatabase(inject('testPostgres'), { empty: true }),
    ]);
  });
  afterAll(async () => {
    await migrated?.drop();
    await unmigrated?.drop();
  });

  it('starts, becomes ready, and on SIGTERM shuts down cleanly with exit code 0', async () => {
    const api = startApi({ ...baseEnv, DATABASE_URL: migrated.url });
    const listening = await api.waitFor((line) => line.msg === 'listening', '"listening"', START_TIMEOUT_MS);
    expect(listening.port).toEqual(expect.any(Number));

    const response = await fetch(`http://127.0.0.1:${String(listening.port)}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ready' });

    api.child.kill('SIGTERM');
    expect(await api.exited(EXIT_TIMEOUT_MS)).toEqual({ code: 0, signal: null });
    expect(api.stdout.notJson).toEqual([]);
    expect(api.stdout.lines).toContainEqual(expect.objectContaining({ msg: 'shutdown complete', service: 'api' }));
    expect(api.stderr()).toBe('');
  });

  it('exits 78 on bad configuration, naming every bad variable without a stack trace', async () => {
    const api = startApi({ ...baseEnv, API_PORT: 'abc' });
    expect(await api.exited(EXIT_TIMEOUT_MS)).toEqual({ code: 78, signal: null });
    const stderr = api.stderr();
    expect(stderr).toMatch(/DATABASE_URL: is required/);
    expect(stderr).toMatch(/API_PORT: .*\(got "abc"\)/);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(api.stdout.lines).toEqual([]);
    expect(api.stdout.notJson).toEqual([]);
  });

  it('exits 1 on a database that lacks migrations, naming them in a fatal log line', async () => {
    const api = startApi({ ...baseEnv, DATABASE_URL: unmigrated.url });
    expect(await api.exited(START_TIMEOUT_MS)).toEqual({ code: 1, signal: null });
    expect(api.stdout.notJson).toEqual([]);
    const fatal = api.stdout.lines.find((line) => line.level === 'fatal');
    expect(fatal).toMatchObject({
      pending: migrationNames(),
      msg: expect.stringContaining(migrationNames().join(', ')),
    });
    expect(api.stderr()).toBe('');
  });
});
