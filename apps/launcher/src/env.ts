import { join } from 'node:path';
import { databaseEnvSchema } from '@threadstore/db';
import { logEnvSchema } from '@threadstore/runtime';
import * as z from 'zod';

/** The repository root, where the default data folder lives (`.data/`, git-ignored). */
const REPOSITORY_ROOT = join(import.meta.dirname, '..', '..', '..');

export const launcherEnvSchema = logEnvSchema.extend({
  // Without DATABASE_URL the launcher runs PostgreSQL itself; with it, it uses that server.
  DATABASE_URL: databaseEnvSchema.shape.DATABASE_URL,
  EMBEDDED_PG_DIR: z
    .string()
    .trim()
    .min(1)
    .default(join(REPOSITORY_ROOT, '.data', 'postgres')),
  // A fixed default port lets `psql` and other tools find the embedded server between runs.
  EMBEDDED_PG_PORT: z.coerce.number().int().min(0).max(65_535).default(54_329),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1).default(30_000),
  // A crashed API or worker is restarted after 1 s, 2 s, 4 s… (at most 30 s); after this many
  // crashes in a row the launcher stops everything and exits 1. A child that ran for
  // LAUNCHER_STABLE_AFTER_MS before crashing starts the count afresh.
  LAUNCHER_MAX_RESTARTS: z.coerce.number().int().min(0).default(5),
  LAUNCHER_RESTART_BACKOFF_MS: z.coerce.number().int().min(1).default(1_000),
  LAUNCHER_STABLE_AFTER_MS: z.coerce.number().int().min(1).default(60_000),
});
export type LauncherEnv = z.infer<typeof launcherEnvSchema>;
