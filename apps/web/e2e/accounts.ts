import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createThreadstoreClient, type TAuthToken, type ThreadstoreClient } from '@threadstore/client';
import type { Page } from 'playwright-core';
import type { E2E } from './fixtures.ts';
import { REPOSITORY_ROOT } from './product.ts';

/** Where the web app keeps a signed-in visitor's token (apps/web/src/app/auth.tsx). */
const TOKEN_STORAGE_KEY = 'threadstore.session';
const ADMIN_CLI = join(REPOSITORY_ROOT, 'apps', 'api', 'dist', 'cli', 'admin.js');

export interface Account {
  signedIn: TAuthToken;
  username: string;
  /** The typed client as this account, for arranging data through the API. */
  client: ThreadstoreClient;
}

/** A new local account on the product, signed up through the API. */
export async function signUp(url: string, prefix: string): Promise<Account> {
  const username = `${prefix}-${randomUUID().slice(0, 8)}`;
  const anonymous = createThreadstoreClient({ url: new URL('/trpc', url), auth: { anonymousId: randomUUID() } });
  const signedIn = await anonymous.auth.signUp.mutate({ username, password: 'correct horse battery staple' });
  return {
    signedIn,
    username,
    client: createThreadstoreClient({ url: new URL('/trpc', url), auth: { token: signedIn.token } }),
  };
}

/** A page in a fresh browser context on `url` (the shared product by default), signed in as `account`. */
export async function pageAs(t: E2E, account: Account, url = t.url): Promise<Page> {
  const context = await t.browser.newContext({ baseURL: url, viewport: { width: 1280, height: 1000 } });
  await context.addInitScript(
    ([key, value]) => window.localStorage.setItem(key!, value!),
    [TOKEN_STORAGE_KEY, JSON.stringify(account.signedIn)],
  );
  return context.newPage();
}

/**
 * Makes `account` an administrator with the operators' own command (`pnpm admin grant`, built),
 * against the product's database. Call it before the account's first signed-in request: the API
 * remembers a token's user (and role) for up to a minute.
 */
export async function grantAdmin(databaseUrl: string, account: Account): Promise<void> {
  const { stdout } = await promisify(execFile)(process.execPath, [ADMIN_CLI, 'grant', account.username], {
    cwd: REPOSITORY_ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, THREADSTORE_ENV_FILE: '/dev/null' },
  });
  if (!stdout.includes('is now an admin')) throw new Error(`admin grant said: ${stdout}`);
}
