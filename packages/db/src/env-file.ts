import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Reads the repository's `.env` (see .env.example) into process.env with Node's own parser
 * (`process.loadEnvFile`: quotes, `#` comments, `export` prefixes), never overriding a variable
 * the environment already sets. Every entry point calls it first, so the API, the worker, the
 * jobs CLI, the launcher and the database commands all see the same settings however they are
 * started. The file is looked for from the working directory up to the workspace root (the
 * folder with pnpm-workspace.yaml), so `pnpm --filter … start` finds the root's `.env` too;
 * THREADSTORE_ENV_FILE names another file. Returns the file read, if any.
 */
export function loadDotEnvFile(startDir: string = process.cwd()): string | undefined {
  const explicit = process.env.THREADSTORE_ENV_FILE;
  if (explicit !== undefined && explicit !== '') {
    process.loadEnvFile(explicit);
    return explicit;
  }
  for (let dir = startDir; ; dir = dirname(dir)) {
    const file = join(dir, '.env');
    if (existsSync(file)) {
      process.loadEnvFile(file);
      return file;
    }
    if (existsSync(join(dir, 'pnpm-workspace.yaml')) || dirname(dir) === dir) return undefined;
  }
}
