// Applies pending migrations (`migrate.ts up`, the default) or lists them (`migrate.ts status`,
// which exits 1 while any are pending) against DATABASE_URL. Used by docker-compose's `migrate`
// service and `pnpm db:migrate`; prints one JSON object per line.
import * as z from 'zod';
import { connectionSettingsFromEnv, databaseEnvSchema } from '../connection.ts';
import { loadDotEnvFile } from '../env-file.ts';
import { createOrm, getMigrationStatus, migrate } from '../orm.ts';

// Settings from the repository's .env, under those the environment already sets.
loadDotEnvFile();

const command = process.argv[2] ?? 'up';
if (command !== 'up' && command !== 'status') {
  console.error(`unknown command "${command}"; use "up" or "status"`);
  process.exit(64); // EX_USAGE
}

const parsed = databaseEnvSchema
  .extend({
    DATABASE_URL: databaseEnvSchema.shape.DATABASE_URL.unwrap(),
    // No statement timeout unless asked for: an index build on a big table may take minutes.
    DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(0),
  })
  .safeParse(process.env);
if (!parsed.success) {
  console.error(`invalid configuration:\n${z.prettifyError(parsed.error)}`);
  process.exit(78); // EX_CONFIG
}

const log = (fields: Record<string, unknown>) =>
  console.log(JSON.stringify({ time: new Date().toISOString(), ...fields }));
const orm = await createOrm({ connection: connectionSettingsFromEnv(parsed.data, 'threadstore-migrate') });
try {
  if (command === 'up') {
    const applied = await migrate(orm);
    log({ msg: applied.length > 0 ? 'applied migrations' : 'schema is up to date', applied });
  } else {
    const status = await getMigrationStatus(orm);
    log({ msg: 'migration status', ...status });
    process.exitCode = status.pending.length > 0 ? 1 : 0;
  }
} finally {
  await orm.close();
}
