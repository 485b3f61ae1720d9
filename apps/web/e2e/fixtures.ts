import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, inject } from 'vitest';
import { launchBrowser, REPOSITORY_ROOT } from './product.ts';

/**
 * Screenshots for the README, kept in git, are refreshed with `E2E_SCREENSHOTS=1`; otherwise
 * they go to .vitest/screenshots, so an ordinary test run leaves the work tree as it was.
 */
export const SCREENSHOTS =
  process.env.E2E_SCREENSHOTS === '1'
    ? join(REPOSITORY_ROOT, 'docs', 'screenshots')
    : join(REPOSITORY_ROOT, 'apps', 'web', '.vitest', 'screenshots');

/**
 * What an e2e test gets: the product's address, the browser, and `newPage()` for a page in a
 * fresh context (its own localStorage, so its own anonymous visitor). Everything is closed by
 * `close()`; use with `await using` or in afterAll.
 */
export interface E2E {
  url: string;
  browser: Browser;
  newContext(): Promise<BrowserContext>;
  newPage(context?: BrowserContext): Promise<Page>;
  screenshot(page: Page, name: string): Promise<void>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function e2e(): Promise<E2E> {
  const url = inject('productUrl');
  const browser = await launchBrowser();
  const contexts: BrowserContext[] = [];
  const close = async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser.close();
  };
  const newContext = async () => {
    const context = await browser.newContext({ baseURL: url, viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    return context;
  };
  return {
    url,
    browser,
    newContext,
    newPage: async (context) => (context ?? (await newContext())).newPage(),
    async screenshot(page, name) {
      await mkdir(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * The usual setup of an e2e file: one browser for the enclosing `describe`, opened before its
 * tests and closed after them. Call the returned function inside a test: `const t = browser();`.
 */
export function useE2E(): () => E2E {
  let opened: E2E | undefined;
  beforeAll(async () => {
    opened = await e2e();
  });
  afterAll(() => opened?.close());
  return () => {
    if (opened === undefined) throw new Error('useE2E(): the browser opens in beforeAll; call this inside a test');
    return opened;
  };
}
