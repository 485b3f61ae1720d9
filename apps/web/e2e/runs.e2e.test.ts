import { createThreadstoreClient, type ThreadstoreClient } from '@threadstore/client';
import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { useE2E, type E2E } from './fixtures.ts';

/** The typed client as the agent backend of this page's visitor (same anonymous id). */
async function agentFor(t: E2E, page: Page): Promise<ThreadstoreClient> {
  const anonymousId = await page.evaluate(() => localStorage.getItem('threadstore.anonymousId'));
  return createThreadstoreClient({ url: `${t.url}/trpc`, auth: { anonymousId: anonymousId! } });
}

const cell = (page: Page, run: string, column: number) =>
  page.locator(`tr[aria-label="${run}"] > :nth-child(${column})`);

describe('runs', () => {
  const browser = useE2E();

  test('the runs page follows runs changed through the API, live, and kills one', async () => {
    const t = browser();
    const page = await t.newPage();
    await page.goto('/runs');
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    const agent = await agentFor(t, page);

    const run = await agent.sessions.create.mutate({ title: 'Nightly evaluation', agentId: 'evaluator' });
    await cell(page, 'Nightly evaluation', 2).getByText('created').waitFor();
    await agent.sessions.start.mutate({ id: run.id });
    await cell(page, 'Nightly evaluation', 2).getByText('running').waitFor();
    await agent.sessions.progress.mutate({ id: run.id, phase: 'research', round: 2, addCost: '0.0125' });
    await cell(page, 'Nightly evaluation', 3).getByText('research').waitFor();
    expect(await cell(page, 'Nightly evaluation', 4).textContent()).toBe('2');
    await expect.poll(() => cell(page, 'Nightly evaluation', 5).textContent()).toMatch(/^0\.0125/);

    const done = await agent.sessions.create.mutate({ title: 'Weekly digest' });
    await agent.sessions.start.mutate({ id: done.id });
    await agent.sessions.complete.mutate({
      id: done.id,
      synthesis: 'Three sources agree on the trend.',
      finalRecommendation: 'Ship the change.',
    });
    await page.getByText('Recommendation:').waitFor();
    await page.getByText('Ship the change.').waitFor();
    await t.screenshot(page, 'runs');

    await page.getByRole('button', { name: 'Kill Nightly evaluation' }).click();
    await cell(page, 'Nightly evaluation', 2).getByText('killed').waitFor();
    expect((await agent.sessions.get.query({ id: run.id })).status).toBe('killed');

    // Filters: only completed runs.
    await page.getByRole('checkbox', { name: 'completed' }).check();
    await expect.poll(() => page.locator('tbody tr[aria-label]').count()).toBe(1);
    await page.locator('tr[aria-label="Weekly digest"]').waitFor();
  });
});
