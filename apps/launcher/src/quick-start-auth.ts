import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** The settings that choose how people sign in; any one of them set means "configured". */
const AUTH_SETTINGS = ['AUTH_JWT_SECRET', 'AUTH_JWKS_URL', 'AUTH_JWT_ISSUER', 'AUTH_LOCAL_ACCOUNTS'] as const;

/** Where the generated signing secret is kept: beside the embedded data folder (.data/ by default). */
export function quickStartSecretFile(embeddedPgDir: string): string {
  return join(dirname(embeddedPgDir), 'auth-jwt-secret');
}

/**
 * The quick start's sign-in: on the embedded database with no auth configured, local accounts
 * are on, their tokens signed with a secret generated once and kept (mode 0600) beside the data,
 * so the web app's "Sign up" works on the README's first command and sessions survive restarts.
 * Any AUTH_* setting given means the operator chose; then nothing is added.
 */
export async function quickStartAuth(
  embeddedPgDir: string,
  childEnv: NodeJS.ProcessEnv,
): Promise<{ AUTH_LOCAL_ACCOUNTS: string; AUTH_JWT_SECRET: string } | null> {
  if (AUTH_SETTINGS.some((name) => (childEnv[name] ?? '') !== '')) return null;
  const file = quickStartSecretFile(embeddedPgDir);
  let secret = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (secret.length < 32) {
    secret = randomBytes(32).toString('base64url');
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, `${secret}\n`, { mode: 0o600 });
  }
  return { AUTH_LOCAL_ACCOUNTS: 'true', AUTH_JWT_SECRET: secret };
}
