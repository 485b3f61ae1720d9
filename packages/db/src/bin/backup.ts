// `pnpm db:backup [dir]` writes a consistent backup of DATABASE_URL's data model into dir
// (default backups/threadstore-<time>); `pnpm db:restore <dir>` restores one into the empty
// database at DATABASE_URL (connect as the schema's owner). See packages/db/src/backup.ts.
// Exit codes: 0 done, 1 failed (nothing restored), 64 bad usage, 78 bad configuration.
import { join } from 'node:path';
import * as z from 'zod';
import { backupDatabase, BackupError, restoreDatabase } from '../backup.ts';
import { databaseUrlSchema } from '../connection.ts';
import { loadDotEnvFile } from '../env-file.ts';

// Settings from the repository's .env, under those the environment already sets.
loadDotEnvFile();

const [command, target] = process.argv.slice(2);
if ((command !== 'backup' && command !== 'restore') || (command === 'restore' && target === undefined)) {
  console.error('usage: backup [dir] | restore <dir>');
  process.exit(64); // EX_USAGE
}
const parsed = z.object({ DATABASE_URL: databaseUrlSchema }).safeParse(process.env);
if (!parsed.success) {
  console.error(`invalid configuration:\n${z.prettifyError(parsed.error)}`);
  process.exit(78); // EX_CONFIG
}
const url = parsed.data.DATABASE_URL;
const log = (fields: Record<string, unknown>) =>
  console.log(JSON.stringify({ time: new Date().toISOString(), ...fields }));

const startedAt = performance.now();
try {
  if (command === 'backup') {
    const dir = target ?? join('backups', `threadstore-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    const manifest = await backupDatabase({ url, dir });
    log({
      msg: 'backup written',
      dir,
      seconds: Math.round(performance.now() - startedAt) / 1000,
      checksum: manifest.checksum,
      rows: Object.fromEntries(manifest.tables.map((table) => [table.name, table.rows])),
    });
  } else {
    const report = await restoreDatabase({ url, dir: target! });
    log({ msg: 'restored', dir: target, seconds: Math.round(performance.now() - startedAt) / 1000, ...report });
  }
} catch (error) {
  if (!(error instanceof BackupError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
