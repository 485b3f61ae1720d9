/**
 * `pnpm admin grant <user>` / `pnpm admin revoke <user>`: gives or takes the admin role
 * (admin.* procedures), by user id, e-mail or local username. Needs DATABASE_URL (the API's role
 * is enough). Exit codes: 0 done (or nothing to change), 1 no such user or ambiguous, 64 bad
 * usage, 78 bad configuration.
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { loadDotEnvFile } from '@threadstore/db';
import { DomainError, setAdminRole } from '@threadstore/domain';
import { createLogger, loadConfigOrExit, openServiceDatabase, serviceDatabaseEnvSchema } from '@threadstore/runtime';

// Settings from the repository's .env, under those the environment already sets.
loadDotEnvFile();

const USAGE = 'usage: admin grant <user> | admin revoke <user>   (user: id, e-mail or username)';
function positionals(): string[] {
  try {
    return parseArgs({ allowPositionals: true, options: {}, strict: true }).positionals;
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(64);
  }
}
const [command, who, ...extra] = positionals();
if ((command !== 'grant' && command !== 'revoke') || who === undefined || extra.length > 0) {
  console.error(USAGE);
  process.exit(64);
}

const config = loadConfigOrExit(serviceDatabaseEnvSchema);
const logger = createLogger('admin-cli', 'warn', process.stderr);
const orm = await openServiceDatabase(config, 'admin-cli', logger);
try {
  const { user, changed } = await setAdminRole(orm.em.fork(), who, command === 'grant', userInfo().username);
  const name = user.email ?? user.username ?? user.id;
  console.log(
    changed
      ? `${name} (${user.id}) is ${command === 'grant' ? 'now an admin' : 'no longer an admin'}`
      : `${name} (${user.id}) ${command === 'grant' ? 'is already an admin' : 'is not an admin'}; nothing changed`,
  );
} catch (error) {
  if (!(error instanceof DomainError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
} finally {
  await orm.close();
}
