import { createThreadstoreClient } from '@threadstore/client';
import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { useE2E } from './fixtures.ts';

/** The messages of the open conversation, as a visitor reads them. */
const said = (page: Page, role: 'You' | 'Assistant', text: string) =>
  page.locator(`article[aria-label^="${role}, message"]`, { hasText: text });

async function startConversation(page: Page, text: string): Promise<string> {
  await page.goto('/');
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/chat\/[0-9a-f-]{36}$/);
  await said(page, 'Assistant', `You said: ${text}`).waitFor();
  // The answer is complete (its stream said done): the composer takes the next message.
  await page.getByRole('status').filter({ hasText: 'answering' }).waitFor({ state: 'detached' });
  return page.url();
}

describe('chat', () => {
  const browser = useE2E();

  test('an anonymous visitor chats with the built-in responder; after a reload the history is still there', async () => {
    const t = browser();
    const page = await t.newPage();
    const url = await startConversation(page, 'hello from the browser');
    expect(await page.evaluate(() => localStorage.getItem('threadstore.anonymousId'))).toMatch(/^[0-9a-f-]{36}$/);
    await page.getByRole('textbox', { name: 'Message' }).fill('and a second question');
    await page.getByRole('button', { name: 'Send' }).click();
    await said(page, 'Assistant', 'You said: and a second question').waitFor();

    await page.reload();
    expect(page.url()).toBe(url);
    await said(page, 'You', 'hello from the browser').waitFor();
    await said(page, 'Assistant', 'You said: and a second question').waitFor();
    expect(await page.locator('article[aria-label*=", message"]').count()).toBe(4);
    await expect
      .poll(() => page.getByRole('navigation', { name: 'Conversations' }).getByText('hello from the browser').count())
      .toBe(1);
    await t.screenshot(page, 'chat');
  });

  test('signing up claims the anonymous conversations into the account', async () => {
    const t = browser();
    const page = await t.newPage();
    await startConversation(page, 'remember me after sign-up');
    await page.getByRole('link', { name: 'Sign in or sign up' }).click();
    await page.getByLabel('Username').fill(`visitor${Date.now()}`);
    await page.getByLabel('Password').fill('correct horse battery');
    await t.screenshot(page, 'account');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByTestId('signed-in-as').waitFor();
    const list = page.getByRole('navigation', { name: 'Conversations' });
    await list.getByRole('link', { name: /remember me after sign-up/ }).click();
    await said(page, 'Assistant', 'You said: remember me after sign-up').waitFor();
    // The token, not the anonymous id, is what the page uses now: still there after a reload.
    await page.reload();
    await said(page, 'You', 'remember me after sign-up').waitFor();
    await page.getByTestId('signed-in-as').waitFor();
  });

  test('a second browser of the same visitor sees the first one’s messages live', async () => {
    const t = browser();
    const first = await t.newPage();
    const url = await startConversation(first, 'opening line');
    const anonymousId = await first.evaluate(() => localStorage.getItem('threadstore.anonymousId'));
    const context = await t.newContext();
    await context.addInitScript((id) => localStorage.setItem('threadstore.anonymousId', id!), anonymousId);
    const second = await t.newPage(context);
    await second.goto(url);
    await said(second, 'You', 'opening line').waitFor();

    await first.getByRole('textbox', { name: 'Message' }).fill('typed in the first browser');
    await first.keyboard.press('Enter');
    await said(second, 'You', 'typed in the first browser').waitFor();
    await said(second, 'Assistant', 'You said: typed in the first browser').waitFor();
  });

  test('a reload in the middle of an answer resumes it; the answer is complete and stored once', async () => {
    const t = browser();
    const page = await t.newPage();
    await startConversation(page, 'short start');
    const question = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
    await page.getByRole('textbox', { name: 'Message' }).fill(question);
    await page.keyboard.press('Enter');
    // Part of the answer is on screen, not all of it (60 words at 40 ms each take seconds).
    await said(page, 'Assistant', 'You said: word0 word1').waitFor();
    expect(await page.getByRole('status').filter({ hasText: 'answering' }).count()).toBe(1);
    await page.reload();
    await said(page, 'Assistant', 'word59 (3 messages in context)').waitFor({ timeout: 30_000 });
    expect(await said(page, 'You', 'word59').count()).toBe(1);
    expect(await said(page, 'Assistant', 'word59').count()).toBe(1);
  });

  test('chapters, citations and tool calls of stored messages are shown, and a chapter can be picked', async () => {
    const t = browser();
    const page = await t.newPage();
    const url = await startConversation(page, 'what do the sources say');
    const anonymousId = await page.evaluate(() => localStorage.getItem('threadstore.anonymousId'));
    const agent = createThreadstoreClient({ url: `${t.url}/trpc`, auth: { anonymousId: anonymousId! } });
    const sessionId = url.split('/').at(-1)!;
    await agent.messages.appendMany.mutate({
      sessionId,
      messages: [
        {
          role: 'assistant',
          content: 'Two sources agree.',
          chapter: 'Research',
          citations: [{ title: 'Annual report', url: 'https://example.com/report' }],
          toolCalls: [{ name: 'web_search', arguments: { query: 'trend' } }],
        },
        { role: 'user', content: 'and the summary?', chapter: 'Summary' },
      ],
    });
    // Live, through the watch: the chapter headings and the extras appear without a reload.
    await page.getByRole('heading', { name: 'Research' }).waitFor();
    await page.getByText('Citations (1)').click();
    await page.getByRole('link', { name: 'Annual report' }).waitFor();
    await page.getByText('Tool calls (1)').click();
    await page.getByText('web_search', { exact: true }).waitFor();

    await page.getByLabel('Chapter').selectOption('Summary');
    await said(page, 'You', 'and the summary?').waitFor();
    await expect.poll(() => said(page, 'Assistant', 'Two sources agree.').count()).toBe(0);
  });

  test('a failed send is retried visibly with the same clientMessageId, and stored once', async () => {
    const t = browser();
    const page = await t.newPage();
    await startConversation(page, 'before the outage');
    const sent: string[] = [];
    await page.route('**/trpc/chat.send*', async (route) => {
      sent.push(route.request().postData() ?? '');
      // 1st attempt: the network fails before the server. 2nd: the server stores the message but
      // its answer never reaches the page. 3rd: through.
      if (sent.length === 1) return route.abort('connectionreset');
      const response = await route.fetch();
      if (sent.length === 2) return route.abort('connectionreset');
      return route.fulfill({ response });
    });
    await page.getByRole('textbox', { name: 'Message' }).fill('sent through a flaky network');
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'retrying' }).waitFor();
    await said(page, 'Assistant', 'You said: sent through a flaky network').waitFor();
    await expect.poll(() => sent.length, { timeout: 10_000 }).toBe(3);
    const ids = sent.map((body) => /"clientMessageId":"([^"]+)"/.exec(body)?.[1]);
    expect(ids[0]).toBeDefined();
    expect(new Set(ids)).toEqual(new Set([ids[0]]));
    await page.reload();
    await said(page, 'Assistant', 'You said: sent through a flaky network').waitFor();
    expect(await said(page, 'You', 'sent through a flaky network').count()).toBe(1);
    expect(await said(page, 'Assistant', 'sent through a flaky network').count()).toBe(1);
  });
});
