import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { send } from './load.ts';

export interface ServerProcess {
  name: string;
  port: number;
  pid: number;
  /** RSS and V8 heap in use after a full GC, in bytes (API only: it runs with the probe). */
  memory(): Promise<{ rss: number; heapUsed: number }>;
  stop(): Promise<void>;
}

const REPO_ROOT = join(import.meta.dirname, '..', '..');

/**
 * The real API entry point (apps/api/dist/main.js, what `pnpm start` runs), with the memory
 * probe preloaded. Rate limiting is off: the load generator is one client hammering on purpose.
 * With `cpuProfileDir`, V8 writes a .cpuprofile there when the API exits (to see where time goes).
 */
export function startApi(
  databaseUrl: string,
  poolMax: number,
  cpuProfileDir?: string,
  // More settings (bench/loop points the conversation loop at its fake model).
  extraEnv: Record<string, string> = {},
  // Another build of the API (bench/loop's --before: an earlier commit's checkout, same run).
  main = join(REPO_ROOT, 'apps/api/dist/main.js'),
): Promise<ServerProcess> {
  return startServer(
    'api',
    ['--expose-gc', ...profileArgs(cpuProfileDir), '--import', join(import.meta.dirname, 'memory-probe.ts'), main],
    (port) => ({
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_MAX: String(poolMax),
      API_HOST: '127.0.0.1',
      API_PORT: String(port),
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '0',
      ...extraEnv,
    }),
  );
}

/** The bare baseline server: this benchmark's, or another's (`script`, e.g. bench/academy's). */
export function startBaseline(
  databaseUrl: string,
  poolMax: number,
  script = join(import.meta.dirname, 'baseline-server.ts'),
  cpuProfileDir?: string,
): Promise<ServerProcess> {
  return startServer('baseline', [...profileArgs(cpuProfileDir), script], (port) => ({
    BENCH_DATABASE_URL: databaseUrl,
    BENCH_POOL_MAX: String(poolMax),
    BENCH_PORT: String(port),
    NODE_ENV: 'production',
  }));
}

const profileArgs = (dir: string | undefined) => (dir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`]);

async function startServer(
  name: string,
  args: string[],
  env: (port: number) => Record<string, string>,
): Promise<ServerProcess> {
  const port = await freePort();
  // Its own process, so the load generator and the server never share an event loop; its
  // stdout (JSON logs) goes to our stderr, keeping our stdout for the results.
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', ...env(port) },
    stdio: ['ignore', process.stderr, 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitUntilHealthy(child, port, name);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    name,
    port,
    pid: child.pid!,
    memory: () =>
      new Promise((resolve, reject) => {
        child.once('message', (message) => resolve(message as { rss: number; heapUsed: number }));
        if (!child.send('memory')) reject(new Error(`${name}: IPC channel closed`));
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function waitUntilHealthy(child: ChildProcess, port: number, name: string): Promise<void> {
  const agent = new Agent();
  const deadline = Date.now() + 60_000;
  try {
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} before listening`);
      try {
        const { status } = await send(agent, port, { method: 'GET', path: '/healthz', headers: {} });
        if (status === 200) return;
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${name} did not answer /healthz within 60 s`);
  } finally {
    agent.destroy();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU seconds used so far by a process and all its descendants (the postmaster's backends).
 * Each process counts with its reaped children's time (cutime, cstime), so a backend or an
 * autovacuum worker that exits between two readings does not take its CPU time with it.
 */
export function treeCpuSeconds(rootPid: number): number {
  const parents = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command (which may contain spaces) start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(pid, Number(fields[1]));
      ticks.set(pid, Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]));
    } catch {
      // Exited meanwhile.
    }
  }
  let total = 0;
  for (const [pid, used] of ticks) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parents.get(p)) {
      if (p === rootPid) {
        total += used;
        break;
      }
    }
  }
  return total / CLOCK_TICKS_PER_SECOND;
}

/** Busy and total CPU seconds of the whole machine (all cores), from /proc/stat. */
export function machineCpuSeconds(): { busy: number; total: number } {
  const [cpu] = readFileSync('/proc/stat', 'utf8').split('\n', 1);
  const values = cpu!.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = values.reduce((sum, value) => sum + value, 0);
  const idle = values[3]! + values[4]!;
  return { busy: (total - idle) / CLOCK_TICKS_PER_SECOND, total: total / CLOCK_TICKS_PER_SECOND };
}
