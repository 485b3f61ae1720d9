import { describe, expect, test } from 'vitest';
import { useE2E } from './fixtures.ts';

describe('the app shell', () => {
  const browser = useE2E();

  test('/ is served by the API and lands on the chat page with the nav', async () => {
    const t = browser();
    const page = await t.newPage();
    const response = await page.goto('/');
    expect(response?.headers()['content-type']).toContain('text/html');
    await page.waitForURL('**/chat');
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect.poll(() => nav.getByRole('link', { name: 'Chat' }).getAttribute('aria-current')).toBe('page');
    expect(await nav.getByRole('link', { name: 'Runs' }).isVisible()).toBe(true);
  });

  test('a client route reloads to the same page (SPA fallback), an unknown one says not found', async () => {
    const t = browser();
    const page = await t.newPage();
    await page.goto('/runs');
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    await page.goto('/no-such-page');
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
  });
});
