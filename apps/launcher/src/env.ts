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
});
export type LauncherEnv = z.infer<typeof launcherEnvSchema>;
