import { describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { grantAdmin, pageAs, signUp } from './accounts.ts';
import { useAdminProduct } from './admin-database.ts';

const CHARTS = [
  'Database size',
  'Table sizes',
  'Index sizes',
  'Dead tuples',
  'Messages per day',
  'Cost per day',
  'Messages per model',
  'Cost per model',
];

describe('the operations page', () => {
  const setup = useAdminProduct();

  /** The runs of `job` the recent runs show as succeeded. */
  function succeeded(page: Page, job: string) {
    return page
      .getByRole('table', { name: 'Recent runs' })
      .getByRole('row')
      .filter({ hasText: job })
      .filter({ hasText: 'succeeded' });
  }

  /**
   * Clicks a job's button and waits until the recent runs show one more finished run of it than
   * before the click. Counting from what is already there matters: the worker's own hourly run
   * (stats at minute 0) may have finished just before, on data the test had not written yet.
   */
  async function runAndWait(page: Page, button: string, job: string) {
    // The runs loaded: their table, or the note that there are none.
    await page.getByRole('table', { name: 'Recent runs' }).or(page.getByText('No job has run yet.')).waitFor();
    const before = await succeeded(page, job).count();
    await page.getByRole('button', { name: button }).click();
    await expect.poll(() => succeeded(page, job).count(), { timeout: 45_000 }).toBeGreaterThan(before);
  }

  test('shows an admin the jobs, runs the stats job and draws its snapshots as charts', async () => {
    const { t, product } = setup;
    const admin = await signUp(product.url, 'ops-admin');
    await grantAdmin(product.databaseUrl, admin);
    // Messages of two models, for the per-day and per-model charts.
    const session = await admin.client.sessions.create.mutate({ title: 'costs' });
    await admin.client.messages.appendMany.mutate({
      sessionId: session.id,
      messages: [
        { role: 'user', content: 'How big is the database?' },
        {
          role: 'assistant',
          content: 'Small.',
          model: 'model-a',
          promptTokens: 12,
          completionTokens: 3,
          cost: '0.012',
        },
        { role: 'assistant', content: 'Tiny.', model: 'model-b', promptTokens: 12, completionTokens: 3, cost: '0.03' },
      ],
    });
    const page = await pageAs(t, admin, product.url);
    await page.goto('/operations');
    await page.getByRole('heading', { name: 'Jobs and schedules' }).waitFor();
    const statsRow = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /^stats/ }) });
    expect(await statsRow.getByRole('cell').first().textContent()).toContain('0 * * * *');

    await runAndWait(page, 'Run stats now', 'stats');
    // (The worker's own hourly run may add one.)
    await page.getByText(/^[1-9] snapshots? of the stats job/).waitFor({ timeout: 20_000 });
    await page.locator('main').evaluate((main) => main.scrollTo(0, 0));
    await t.screenshot(page, 'operations');
    for (const title of CHARTS) {
      const chart = page.getByRole('figure', { name: new RegExp(`^${title}`) });
      // uPlot drew it: a canvas, and a legend naming at least one series.
      await chart.locator('canvas').waitFor();
      expect(await chart.locator('canvas').evaluate((canvas: HTMLCanvasElement) => canvas.width)).toBeGreaterThan(200);
      // The series are refetched once the run shows as finished: poll rather than read once.
      await expect.poll(() => chart.locator('.u-legend .u-series').count()).toBeGreaterThan(0);
    }
    const sizes = page.getByRole('figure', { name: /^Table sizes/ });
    await sizes.getByText('Figures of “Table sizes” as a table').click();
    expect(await sizes.locator('details').getByRole('columnheader', { name: 'chat_messages' }).count()).toBe(1);

    // A receipt is one click away.
    const receipt = page
      .getByRole('table', { name: 'Recent runs' })
      .getByRole('row')
      .filter({ hasText: 'stats' })
      .first();
    await receipt.getByText('Receipt').click();
    expect(await receipt.locator('pre').textContent()).toContain('snapshotId');
    await page.getByRole('heading', { name: 'Statistics' }).evaluate((heading) => heading.scrollIntoView());
    await t.screenshot(page, 'operations-charts');
    const costs = page.getByRole('figure', { name: /^Cost per model/ });
    await expect.poll(() => costs.locator('.u-legend').textContent()).toMatch(/model-a.*model-b/);

    // Retention: the real run is offered only after a successful dry run.
    expect(await page.getByRole('button', { name: 'Run retention now' }).count()).toBe(0);
    await runAndWait(page, 'Dry run retention', 'retention');
    await page.getByRole('button', { name: 'Run retention now' }).waitFor({ timeout: 20_000 });
    expect(await page.getByText(/^Dry run of .* would affect \d+ rows\.$/).count()).toBe(1);
  });

  test('refuses an account that is not an admin, clearly', async () => {
    const { t, product } = setup;
    const user = await signUp(product.url, 'ops-user');
    const page = await pageAs(t, user, product.url);
    await page.goto('/operations');
    const refusal = page.getByRole('alert');
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain('Operations are for administrators only');
    expect(await page.getByRole('heading', { name: 'Jobs and schedules' }).count()).toBe(0);
    await t.screenshot(page, 'operations-refused');
  });
});
