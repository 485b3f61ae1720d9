import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { e2e, type E2E } from './fixtures.ts';

describe('the app shell', () => {
  let t: E2E;
  beforeAll(async () => {
    t = await e2e();
  });
  afterAll(() => t.close());

  test('/ is served by the API and lands on the chat page with the nav', async () => {
    const page = await t.newPage();
    const response = await page.goto('/');
    expect(response?.headers()['content-type']).toContain('text/html');
    await page.waitForURL('**/chat');
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect.poll(() => nav.getByRole('link', { name: 'Chat' }).getAttribute('aria-current')).toBe('page');
    expect(await nav.getByRole('link', { name: 'Runs' }).isVisible()).toBe(true);
  });

  test('a client route reloads to the same page (SPA fallback), an unknown one says not found', async () => {
    const page = await t.newPage();
    await page.goto('/runs');
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    await page.goto('/no-such-page');
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
  });
});
