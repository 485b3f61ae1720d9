import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The names of every migration this build carries, oldest first: what an empty database lacks.
 * Read from the same folder the migrator reads, so a new migration needs no test edits.
 */
export function migrationNames(): string[] {
  return readdirSync(join(import.meta.dirname, '..', 'migrations'))
    .filter((file) => /^Migration\d+_\w+\.(ts|js)$/.test(file) && !file.endsWith('.d.ts'))
    .map((file) => file.replace(/\.(ts|js)$/, ''))
    .sort();
}
