// Creates (or brings up to date) Threadstore's three database roles on a user's server:
//   DATABASE_URL=postgresql://postgres@host/threadstore \
//   THREADSTORE_OWNER_PASSWORD=… THREADSTORE_API_PASSWORD=… THREADSTORE_WORKER_PASSWORD=… pnpm db:roles
// DATABASE_URL must be a superuser's (or the database owner's with CREATEROLE) on the target
// database. Prints one JSON line with the URL each process should use (passwords masked).
// Run it again after anything other than the owner created tables; it is idempotent.
import * as z from 'zod';
import { databaseUrlSchema } from '../connection.ts';
import { loadDotEnvFile } from '../env-file.ts';
import { DEFAULT_ROLE_NAMES, setUpRoles, urlForRole } from '../roles.ts';

// Settings from the repository's .env, under those the environment already sets.
loadDotEnvFile();

const parsed = z
  .object({
    DATABASE_URL: databaseUrlSchema,
    THREADSTORE_OWNER_PASSWORD: z.string().min(12).optional(),
    THREADSTORE_API_PASSWORD: z.string().min(12).optional(),
    THREADSTORE_WORKER_PASSWORD: z.string().min(12).optional(),
    PGBOSS_SCHEMA: z.string().default('pgboss'),
  })
  .safeParse(process.env);
if (!parsed.success) {
  console.error(`invalid configuration:\n${z.prettifyError(parsed.error)}`);
  process.exit(78); // EX_CONFIG
}
const env = parsed.data;
const setup = await setUpRoles({
  adminUrl: env.DATABASE_URL,
  passwords: {
    owner: env.THREADSTORE_OWNER_PASSWORD,
    api: env.THREADSTORE_API_PASSWORD,
    worker: env.THREADSTORE_WORKER_PASSWORD,
  },
  queueSchema: env.PGBOSS_SCHEMA,
});
const masked = (role: string) => urlForRole(env.DATABASE_URL, role, '***');
console.log(
  JSON.stringify({
    time: new Date().toISOString(),
    msg: 'roles ready',
    ...setup,
    urls: {
      migrate: masked(DEFAULT_ROLE_NAMES.owner),
      api: masked(DEFAULT_ROLE_NAMES.api),
      worker: masked(DEFAULT_ROLE_NAMES.worker),
    },
  }),
);
