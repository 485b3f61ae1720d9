import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@threadstore/db/testing';
import { startServiceProcess, type ServiceProcess } from '@threadstore/runtime/testing';

const API_DIR = fileURLToPath(new URL('../..', import.meta.url));
// Generous: three Node processes start on two cores that other suites keep busy.
const START_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 30_000;

const running = new Set<ServiceProcess>();
afterEach(() => {
  for (const api of running) api.kill();
  running.clear();
});

/** `node src/main.ts` with two workers, as a deployment with API_WORKERS=2 runs it. */
function startCluster(env: Record<string, string>): ServiceProcess {
  const api = startServiceProcess(
    'src/main.ts',
    { API_HOST: '127.0.0.1', API_PORT: '0', LOG_LEVEL: 'info', NODE_ENV: 'production', API_WORKERS: '2', ...env },
    API_DIR,
  );
  running.add(api);
  return api;
}

async function listening(api: ServiceProcess): Promise<{ port: number; workerPids: number[] }> {
  const line = await api.waitFor((l) => l.msg === 'listening', '"listening"', START_TIMEOUT_MS);
  return { port: line.port as number, workerPids: line.workerPids as number[] };
}

/** One GET on a connection of its own, so the primary hands each to the next worker. */
function getOnNewConnection(port: number, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const listSessions = (port: number, visitor: string) =>
  getOnNewConnection(port, `/trpc/sessions.list?input=${encodeURIComponent('{}')}`, { 'x-session-id': visitor });

/** A counter's value in Prometheus text, summed over the series whose labels include `labels`. */
function counter(text: string, name: string, labels: string): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && line.includes(labels))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

const alive = (pid: number) => existsSync(`/proc/${pid}`);

describe('the API with API_WORKERS=2', () => {
  let database: TestDatabase;
  let unmigrated: TestDatabase;
  beforeAll(async () => {
    [database, unmigrated] = await Promise.all([
      createTestDatabase(inject('testPostgres')),
      createTestDatabase(inject('testPostgres'), { empty: true }),
    ]);
  });
  afterAll(async () => {
    await database?.drop();
    await unmigrated?.drop();
  });

  it('serves one port from both workers, adds their /metrics up, and stops them all on SIGTERM', async () => {
    const api = startCluster({ DATABASE_URL: database.url });
    const { port, workerPids } = await listening(api);
    expect(workerPids).toHaveLength(2);
    expect(workerPids).not.toContain(api.child.pid);

    const visitor = randomUUID();
    const answers = await Promise.all(Array.from({ length: 20 }, () => listSessions(port, visitor)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    const servedBy = new Set(api.stdout.lines.filter((l) => l.msg === 'request').map((l) => l.pid));
    expect([...servedBy].sort()).toEqual([...workerPids].sort());

    // Whichever worker the scrape reaches, it counts the calls both of them answered.
    for (let scrape = 0; scrape < 2; scrape += 1) {
      const metrics = await getOnNewConnection(port, '/metrics');
      expect(metrics.status).toBe(200);
      expect(counter(metrics.body, 'threadstore_api_calls_total', 'procedure="sessions.list"')).toBe(20);
    }

    api.child.kill('SIGTERM');
    expect(await api.exited(EXIT_TIMEOUT_MS)).toEqual({ code: 0, signal: null });
    const completed = api.stdout.lines.filter((l) => l.msg === 'shutdown complete').map((l) => l.pid);
    expect(completed.sort()).toEqual([api.child.pid, ...workerPids].sort());
    expect(workerPids.filter(alive)).toEqual([]);
    expect(api.stdout.notJson).toEqual([]);
    expect(api.stderr()).toBe('');
  });

  it('replaces a worker that dies while serving, and keeps answering', async () => {
    const api = startCluster({ DATABASE_URL: database.url });
    const { port, workerPids } = await listening(api);
    process.kill(workerPids[0]!, 'SIGKILL');
    const exited = await api.waitFor((l) => l.msg === 'an API worker exited; starting another', 'the restart');
    expect(exited).toMatchObject({ workerPid: workerPids[0], signal: 'SIGKILL', level: 'error' });
    const replaced = await api.waitFor((l) => l.msg === 'API worker replaced', 'the replacement', START_TIMEOUT_MS);
    expect(workerPids).not.toContain(replaced.workerPid);

    const visitor = randomUUID();
    const answers = await Promise.all(Array.from({ length: 6 }, () => listSessions(port, visitor)));
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(200));
    api.child.kill('SIGTERM');
    expect(await api.exited(EXIT_TIMEOUT_MS)).toEqual({ code: 0, signal: null });
  });

  it('keeps retrying a replacement the database refuses, beside the worker still serving', async () => {
    const api = startCluster({ DATABASE_URL: database.url });
    const { workerPids } = await listening(api);
    // From another database: PostgreSQL refuses to close the one a session is connected to.
    const admin = new pg.Client({ connectionString: unmigrated.url });
    await admin.connect();
    try {
      // New connections are refused from here on; the workers' open ones keep working.
      await admin.query(`alter database "${database.name}" allow_connections false`);
      process.kill(workerPids[0]!, 'SIGKILL');
      // The replacement cannot open the database and dies; the primary tries again, and again.
      await api.waitFor(
        (l) => l.msg === 'an API worker exited; starting another' && (l.restartInMs as number) >= 2_000,
        'a second restart',
        START_TIMEOUT_MS,
      );
      expect(api.child.exitCode).toBeNull();
      expect(alive(workerPids[1]!)).toBe(true);
      await admin.query(`alter database "${database.name}" allow_connections true`);
      await api.waitFor((l) => l.msg === 'API worker replaced', 'the replacement', START_TIMEOUT_MS);
    } finally {
      await admin.query(`alter database "${database.name}" allow_connections true`);
      await admin.end();
    }
    expect(api.stdout.lines.filter((l) => l.level === 'fatal' && l.pid === api.child.pid)).toEqual([]);
    api.child.kill('SIGTERM');
    expect(await api.exited(EXIT_TIMEOUT_MS)).toEqual({ code: 0, signal: null });
  });

  it('shares in-memory rate limits between the workers, so two do not give twice the budget', async () => {
    const api = startCluster({ DATABASE_URL: database.url, RATE_LIMIT_PER_MINUTE: '5', RATE_LIMIT_BURST: '5' });
    const { port } = await listening(api);
    const visitor = randomUUID();
    const statuses: number[] = [];
    // One at a time, each on a new connection: the workers take turns, and each worker's own
    // bucket (5) would let all ten through without the shared count.
    for (let i = 0; i < 10; i += 1) statuses.push((await listSessions(port, visitor)).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
    const servedBy = new Set(api.stdout.lines.filter((l) => l.msg === 'request').map((l) => l.pid));
    expect(servedBy.size).toBe(2);
  });

  it('stops with the exit code of a worker that cannot start, instead of restarting it forever', async () => {
    const api = startCluster({ DATABASE_URL: unmigrated.url });
    expect(await api.exited(START_TIMEOUT_MS)).toEqual({ code: 1, signal: null });
    expect(api.stdout.lines).toContainEqual(
      expect.objectContaining({ level: 'fatal', msg: 'an API worker failed to start; stopping the cluster' }),
    );
    expect(api.stdout.lines.filter((l) => l.msg === 'an API worker exited; starting another')).toEqual([]);
  });
});
