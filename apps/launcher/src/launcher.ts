import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import {
  connectionSettingsFromUrl,
  createOrm,
  migrate,
  setUpRoles,
  startEmbeddedPostgres,
  urlForRole,
  DEFAULT_ROLE_NAMES,
  type RunningPostgres,
} from '@threadstore/db';
import type { Logger } from '@threadstore/runtime';
import type { LauncherEnv } from './env.ts';
import { quickStartAuth } from './quick-start-auth.ts';

const APPS_DIR = join(import.meta.dirname, '..', '..');
const EMBEDDED_ROLE_PASSWORD = 'threadstore-local';
const MAX_BACKOFF_MS = 30_000;

export interface LaunchOptions {
  env: LauncherEnv;
  logger: Logger;
  /**
   * How to run the apps: `built` runs their compiled `dist/main.js`; `source` runs `src/main.ts`
   * directly (Node 24 strips the types), `watch` does so under `node --watch`.
   */
  mode: 'built' | 'source' | 'watch';
  /** Environment handed to the apps (the launcher adds DATABASE_URL). */
  childEnv?: NodeJS.ProcessEnv;
}

export interface Launched {
  databaseUrl: string;
  /** Resolves with the exit code the launcher should exit with, once everything has stopped. */
  finished: Promise<number>;
  stop(): Promise<void>;
}

/**
 * Brings the product up: the database (embedded unless DATABASE_URL is set), migrations, then
 * the API and the worker as child processes. An app that crashes is restarted with exponential
 * backoff while PostgreSQL and the other app stay up; after LAUNCHER_MAX_RESTARTS crashes in a
 * row the launcher gives up, stops everything and `finished` resolves with 1, so a supervisor (or
 * the person at the terminal) sees a failure instead of half a product.
 */
export async function launch({ env, logger, mode, childEnv = process.env }: LaunchOptions): Promise<Launched> {
  let embedded: RunningPostgres | undefined;
  let databaseUrl = env.DATABASE_URL;
  // With a DATABASE_URL of their own, users choose the role; the embedded server runs each
  // process as its least-privilege role (packages/db/src/roles.ts).
  let appUrls: { migrate: string; api: string; worker: string } | undefined;
  if (!databaseUrl) {
    const auth = await quickStartAuth(env.EMBEDDED_PG_DIR, childEnv);
    if (auth !== null) {
      childEnv = { ...childEnv, ...auth };
      logger.info('local accounts on (no AUTH_* setting given); the signing secret is kept beside the data');
    }
    embedded = await startEmbeddedPostgres({
      dataDir: env.EMBEDDED_PG_DIR,
      port: env.EMBEDDED_PG_PORT,
      onLog: (message) => logger.debug({ component: 'postgres' }, message),
    });
    databaseUrl = embedded.url;
    try {
      // The server listens on 127.0.0.1 only, like its superuser, so fixed passwords are enough.
      const setup = await setUpRoles({
        adminUrl: embedded.url,
        passwords: { owner: EMBEDDED_ROLE_PASSWORD, api: EMBEDDED_ROLE_PASSWORD, worker: EMBEDDED_ROLE_PASSWORD },
        queueSchema: childEnv.PGBOSS_SCHEMA ?? 'pgboss',
      });
      logger.debug(setup, 'database roles ready');
    } catch (error) {
      await embedded.stop();
      throw error;
    }
    appUrls = {
      migrate: urlForRole(embedded.url, DEFAULT_ROLE_NAMES.owner, EMBEDDED_ROLE_PASSWORD),
      api: urlForRole(embedded.url, DEFAULT_ROLE_NAMES.api, EMBEDDED_ROLE_PASSWORD),
      worker: urlForRole(embedded.url, DEFAULT_ROLE_NAMES.worker, EMBEDDED_ROLE_PASSWORD),
    };
    logger.info(
      { dataDir: embedded.dataDir, port: embedded.port, url: databaseUrl.replace(/:[^:@/]+@/, ':***@') },
      'embedded PostgreSQL ready',
    );
  }

  try {
    const orm = await createOrm({
      // No statement timeout for migrations: an index build on a big table may take minutes.
      connection: {
        ...connectionSettingsFromUrl(appUrls?.migrate ?? databaseUrl, 'threadstore-launcher'),
        statementTimeoutMs: 0,
      },
      log: (message) => logger.debug({ component: 'orm' }, message),
    });
    try {
      const applied = await migrate(orm);
      logger.info({ applied }, applied.length > 0 ? 'applied migrations' : 'schema is up to date');
    } finally {
      await orm.close();
    }
  } catch (error) {
    await embedded?.stop();
    throw error;
  }

  const children = new Map<string, ChildProcess>();
  let stopping = false;
  let exitCode = 0;
  let resolveFinished!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (resolveFinished = resolve));

  const pendingRestarts = new Set<NodeJS.Timeout>();
  const stopAll = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    for (const timer of pendingRestarts) clearTimeout(timer);
    await Promise.all(
      [...children.entries()].map(([name, child]) => stopChild(name, child, env.SHUTDOWN_TIMEOUT_MS, logger)),
    );
    await embedded?.stop();
    resolveFinished(exitCode);
  };

  const failures = { api: 0, worker: 0 };
  const start = (app: 'api' | 'worker') => {
    const entry = mode === 'built' ? join(APPS_DIR, app, 'dist', 'main.js') : join(APPS_DIR, app, 'src', 'main.ts');
    const child = spawn(process.execPath, [...(mode === 'watch' ? ['--watch'] : []), entry], {
      env: { NODE_ENV: 'development', ...childEnv, DATABASE_URL: appUrls?.[app] ?? databaseUrl },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const startedAt = Date.now();
    children.set(app, child);
    child.once('exit', (code, signal) => {
      children.delete(app);
      if (stopping) return;
      // Ctrl-C reaches the apps too (same process group) and they exit 0 after shutting down;
      // an app that stops cleanly on its own is a stop, not a crash.
      if (code === 0) {
        logger.info({ app }, `${app} stopped; stopping everything`);
        void stopAll();
        return;
      }
      // A crash: restart it with backoff, PostgreSQL and the other app staying up. A child that
      // ran for a while before crashing starts the count afresh; one that keeps crashing at once
      // (bad configuration, a schema it refuses) is given up on, and everything stops with 1.
      if (Date.now() - startedAt >= env.LAUNCHER_STABLE_AFTER_MS) failures[app] = 0;
      failures[app] += 1;
      if (failures[app] > env.LAUNCHER_MAX_RESTARTS) {
        logger.error(
          { app, code, signal, restarts: env.LAUNCHER_MAX_RESTARTS },
          `${app} keeps crashing; giving up and stopping everything`,
        );
        exitCode = 1;
        void stopAll();
        return;
      }
      const delayMs = Math.min(env.LAUNCHER_RESTART_BACKOFF_MS * 2 ** (failures[app] - 1), MAX_BACKOFF_MS);
      logger.error({ app, code, signal, attempt: failures[app], delayMs }, `${app} exited unexpectedly; restarting it`);
      const timer = setTimeout(() => {
        pendingRestarts.delete(timer);
        if (!stopping) start(app);
      }, delayMs);
      pendingRestarts.add(timer);
    });
  };
  for (const app of ['api', 'worker'] as const) start(app);
  logger.info({ apps: [...children.keys()], mode }, 'started api and worker');

  return { databaseUrl, finished, stop: stopAll };
}

/** SIGTERM (the apps shut down gracefully on it), then SIGKILL if it outlives the timeout. */
async function stopChild(name: string, child: ChildProcess, timeoutMs: number, logger: Logger): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    logger.warn({ app: name, timeoutMs }, 'app did not stop in time; killing it');
    child.kill('SIGKILL');
  }, timeoutMs);
  await exited;
  clearTimeout(timer);
}
