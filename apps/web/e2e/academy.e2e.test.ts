import { randomUUID } from 'node:crypto';
import { createThreadstoreClient } from '@threadstore/client';
import { describe, expect, test } from 'vitest';
import { grantAdmin, pageAs, signUp, type Account } from './accounts.ts';
import { useAdminProduct } from './admin-database.ts';

describe('the academy page', () => {
  const setup = useAdminProduct();

  /** XP counts once the xp-rollup job folded the ledger: run it now rather than wait for its schedule. */
  async function rollUp(admin: Account, learner: Account, totalXp: number) {
    await expect
      .poll(
        async () => {
          await admin.client.admin.runJob.mutate({ job: 'xp-rollup' }).catch(() => undefined);
          return (await learner.client.academy.profile.query()).totalXp;
        },
        { timeout: 45_000, interval: 2_000 },
      )
      .toBe(totalXp);
  }

  test('shows the profile with level and XP, missions with progress, badges and the leaderboard', async () => {
    const { t, product } = setup;
    const admin = await signUp(product.url, 'academy-admin');
    await grantAdmin(product.databaseUrl, admin);
    const suffix = randomUUID().slice(0, 8);
    await admin.client.academy.admin.createMission.mutate({
      code: `xp-150-${suffix}`,
      title: `Reach 150 XP ${suffix}`,
      xpReward: 25,
      criteria: { measure: 'xp', target: 150 },
    });
    await admin.client.academy.admin.createBadge.mutate({
      code: `hundred-${suffix}`,
      name: `First hundred ${suffix}`,
      criteria: { measure: 'xp', threshold: 100 },
    });
    const { key } = await admin.client.apiKeys.create.mutate({ name: 'grader', scopes: ['academy.award'] });
    const grader = createThreadstoreClient({ url: new URL('/trpc', product.url), auth: { apiKey: key } });

    const learner = await signUp(product.url, 'learner');
    const rival = await signUp(product.url, 'rival');
    await learner.client.academy.updateProfile.mutate({ displayName: `Ana ${suffix}` });
    await rival.client.academy.updateProfile.mutate({ displayName: `Bea ${suffix}` });
    const award = (who: Account, amount: number) =>
      grader.academy.award.mutate({
        userId: who.signedIn.user.id,
        amount,
        reason: 'quiz',
        sourceEventId: randomUUID(),
      });
    await award(learner, 120);
    await award(rival, 60);
    await rollUp(admin, learner, 120);
    await rollUp(admin, rival, 60);

    const page = await pageAs(t, learner, product.url);
    await page.goto('/academy');
    await page.getByTestId('xp').getByText('120').waitFor();
    // 120 XP: level 2 (from 100), level 3 at 300.
    expect(await page.getByTestId('level').textContent()).toBe('2');
    expect(await page.getByText('180 XP to level 3').count()).toBe(1);

    const mission = page
      .getByRole('list', { name: 'Missions' })
      .getByRole('listitem')
      .filter({ hasText: `Reach 150 XP ${suffix}` });
    expect(await mission.textContent()).toContain('120 of 150 · in progress');
    expect(await mission.getByRole('progressbar').getAttribute('value')).toBe('120');

    const badges = page.getByRole('list', { name: 'Badges earned' });
    await badges.getByText(`First hundred ${suffix}`).waitFor();

    const board = page.getByRole('table');
    const you = board.getByRole('row').filter({ hasText: `Ana ${suffix}` });
    expect(await you.textContent()).toContain('(you)');
    expect(
      await board
        .getByRole('row')
        .filter({ hasText: `Bea ${suffix}` })
        .count(),
    ).toBe(1);
    expect(await page.getByTestId('your-rank').textContent()).toMatch(/^You are #\d+ with 120 XP\.$/);
    await t.screenshot(page, 'academy');

    await page.getByRole('button', { name: 'This week' }).click();
    await page.getByRole('button', { name: 'This week', pressed: true }).waitFor();
    await board
      .getByRole('row')
      .filter({ hasText: `Ana ${suffix}` })
      .waitFor();
  });
});
