import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pageAs, signUp } from './accounts.ts';
import { e2e, type E2E } from './fixtures.ts';

describe('the knowledge and memories pages', () => {
  let t: E2E;
  beforeAll(async () => {
    t = await e2e();
  });
  afterAll(() => t.close());

  test('creates an entry, finds it with the matched words highlighted, and edits it', async () => {
    const account = await signUp(t.url, 'knower');
    await account.client.knowledge.create.mutate({
      title: 'Autovacuum and bloat',
      content:
        'Autovacuum reclaims dead tuples ("bloat") at AT&T too; a long transaction keeps them and the table grows.',
      tags: ['postgres'],
    });
    const page = await pageAs(t, account);
    await page.goto('/knowledge');

    // A second entry written in the page.
    await page.getByRole('button', { name: 'New entry' }).click();
    const form = page.getByRole('form', { name: 'New entry' });
    await form.getByLabel('Title').fill('Checkpoints');
    await form.getByLabel('Tags').fill('postgres, wal');
    await form
      .getByLabel('Content (Markdown)')
      .fill('A checkpoint flushes dirty pages; WAL before it can be recycled.');
    await form.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('form', { name: 'Edit Checkpoints' }).waitFor();
    await page.getByRole('list', { name: 'Entries' }).getByRole('button', { name: 'Checkpoints' }).waitFor();

    await page.getByRole('searchbox', { name: 'Search knowledge' }).fill('dead tuples');
    await page.getByRole('button', { name: 'Search' }).click();
    const results = page.getByRole('list', { name: 'Results for dead tuples' });
    await results.waitFor();
    expect(await results.getByRole('listitem').count()).toBe(1);
    const hit = results.getByRole('listitem').first();
    expect(await hit.getByRole('button').textContent()).toBe('Autovacuum and bloat');
    expect(await hit.locator('mark').allTextContents()).toEqual(['dead', 'tuples']);
    // Characters the snippet escapes come back as text.
    expect(await hit.locator('.snippet').textContent()).toContain('("bloat") at AT&T');
    await t.screenshot(page, 'knowledge');

    await hit.getByRole('button', { name: 'Autovacuum and bloat' }).click();
    const editor = page.getByRole('form', { name: 'Edit Autovacuum and bloat' });
    await editor.getByLabel('Title').fill('Autovacuum, bloat and long transactions');
    await editor.getByRole('button', { name: 'Save' }).click();
    await page
      .getByRole('form', { name: 'Edit Autovacuum, bloat and long transactions' })
      .getByText('Version 2')
      .waitFor();
  });

  test("lists a user's memories and shows one's history, newest version first", async () => {
    const account = await signUp(t.url, 'rememberer');
    const { memory } = await account.client.memories.create.mutate({ content: 'Prefers tea', key: 'drink' });
    await account.client.memories.update.mutate({ id: memory.id, content: 'Prefers green tea, no sugar' });
    await account.client.memories.create.mutate({ content: 'Works on the billing service', key: 'work' });
    const page = await pageAs(t, account);
    await page.goto('/memories');

    const list = page.getByRole('list', { name: 'Memories' });
    await list.waitFor();
    expect(await list.getByRole('listitem').count()).toBe(2);
    await list.getByRole('button', { name: 'Prefers green tea, no sugar' }).click();
    const versions = page.getByRole('list', { name: 'Versions, newest first' }).getByRole('listitem');
    await versions.first().waitFor();
    expect(await versions.count()).toBe(2);
    expect(await versions.nth(0).textContent()).toContain('Version 2');
    expect(await versions.nth(0).textContent()).toContain('(current)');
    expect(await versions.nth(1).textContent()).toContain('Prefers tea');

    await page.getByRole('searchbox', { name: 'Search memories' }).fill('billing');
    await page.getByRole('button', { name: 'Search' }).click();
    const found = page.getByRole('list', { name: 'Results for billing' });
    await found.waitFor();
    expect(await found.getByRole('listitem').allTextContents()).toEqual([
      expect.stringContaining('Works on the billing service'),
    ]);
    await t.screenshot(page, 'memories');
  });
});
