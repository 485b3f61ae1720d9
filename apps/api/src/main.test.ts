import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@threadstore/db/testing';

const API_DIR = fileURLToPath(new URL('..', import.meta.url));
// Generous, because two cores may be busy with other suites; a healthy start takes about a second.
const START_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 15_000;

type LogLine = Record<string, unknown> & { level: string; msg: string };

interface ApiProcess {
  /** Every stdout line as written, in order. */
  stdout: string[];
  stderr(): string;
  /** Resolves with the first log line matching `predicate`; rejects if the process exits first or time runs out. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs: number): Promise<LogLine>;
  /** Resolves once the process has exited and its output is fully read. */
  exited(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  signal(signal: NodeJS.Signals): void;
  kill(): void;
}

const running = new Set<ApiProcess>();

/** Runs `node src/main.ts` with exactly this environment (plus PATH), as a deployment would. */
function startApi(env: Record<string, string>): ApiProcess {
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(process.execPath, ['src/main.ts'], {
    cwd: API_DIR,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  let stderr = '';
  const lineListeners = new Set<(line: string) => void>();
  createInterface({ input: child.stdout }).on('line', (line) => {
    stdout.push(line);
    for (const listener of lineListeners) listener(line);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  const describeOutput = () => `stdout:\n${stdout.join('\n')}\nstderr:\n${stderr}`;

  const api: ApiProcess = {
    stdout,
    stderr: () => stderr,
    waitForLog(predicate, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (raw: string) => {
          const line = JSON.parse(raw) as LogLine;
          if (predicate(line)) finish(() => resolve(line));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`no such log line within ${timeoutMs} ms\n${describeOutput()}`))),
          timeoutMs,
        );
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          lineListeners.delete(check);
          settle();
        };
        lineListeners.add(check);
        for (const raw of stdout) check(raw);
        void closed.then(({ code, signal }) =>
          finish(() => reject(new Error(`exited (${code ?? signal}) before the log line\n${describeOutput()}`))),
        );
      });
    },
    exited(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`still running after ${timeoutMs} ms\n${describeOutput()}`)),
          timeoutMs,
        );
      });
      return Promise.race([closed, timeout]).finally(() => clearTimeout(timer));
    },
    signal: (signal) => child.kill(signal),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
  running.add(api);
  void closed.then(() => running.delete(api));
  return api;
}

const baseEnv = { API_HOST: '127.0.0.1', API_PORT: '0', LOG_LEVEL: 'info', NODE_ENV: 'production' };

function expectJsonLines(lines: string[]): LogLine[] {
  return lines.map((line) => {
    expect(() => JSON.parse(line), `not JSON: ${line}`).not.toThrow();
    return JSON.parse(line) as LogLine;
  });
}

afterEach(() => {
  for (const api of running) api.kill();
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
    const listening = await api.waitForLog((line) => line.msg === 'listening', START_TIMEOUT_MS);
    expect(listening.port).toEqual(expect.any(Number));

    const response = await fetch(`http://127.0.0.1:${String(listening.port)}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ready' });

    api.signal('SIGTERM');
    expect(await api.exited(EXIT_TIMEOUT_MS)).toEqual({ code: 0, signal: null });
    const logs = expectJsonLines(api.stdout);
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'shutdown complete', service: 'api' }));
    expect(api.stderr()).toBe('');
  });

  it('exits 78 on bad configuration, naming every bad variable without a stack trace', async () => {
    const api = startApi({ ...baseEnv, API_PORT: 'abc' });
    expect(await api.exited(EXIT_TIMEOUT_MS)).toEqual({ code: 78, signal: null });
    const stderr = api.stderr();
    expect(stderr).toMatch(/DATABASE_URL: is required/);
    expect(stderr).toMatch(/API_PORT: .*\(got "abc"\)/);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(api.stdout).toEqual([]);
  });

  it('exits 1 on a database that lacks migrations, naming them in a fatal log line', async () => {
    const api = startApi({ ...baseEnv, DATABASE_URL: unmigrated.url });
    expect(await api.exited(START_TIMEOUT_MS)).toEqual({ code: 1, signal: null });
    const fatal = expectJsonLines(api.stdout).find((line) => line.level === 'fatal');
    expect(fatal).toMatchObject({
      pending: [expect.stringMatching(/^Migration\d+_initial$/)],
      msg: expect.stringMatching(/Migration\d+_initial/),
    });
    expect(api.stderr()).toBe('');
  });
});
