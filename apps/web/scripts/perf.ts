/**
 * Web app performance, in Debian's Chromium against the product as start.sh runs it:
 *  1. navigation → first message of a 200-message history visible (goal ≤ 500 ms), with the
 *     same measure on a 1-message session as the baseline of this run;
 *  2. JavaScript shipped for the chat page, gzipped as served (goal ≤ 200 KB), chunk by chunk;
 *  3. a 10,000-message session: how many messages the page loads and renders, scrolled up.
 * Median and range of ROUNDS rounds; the 1-minute load average beside each figure.
 *   pnpm --filter @threadstore/web perf        (after `pnpm exec turbo run build`)
 */
import { loadavg } from 'node:os';
import { createThreadstoreClient, type ThreadstoreClient } from '@threadstore/client';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, startProduct } from '../e2e/product.ts';

const ROUNDS = Number(process.env.PERF_ROUNDS ?? 5);
const load = () => loadavg()[0]!.toFixed(2);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const range = (values: number[]) => `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`;

async function seed(client: ThreadstoreClient, title: string, count: number): Promise<string> {
  const session = await client.sessions.create.mutate({ title });
  for (let done = 0; done < count; done += 500) {
    const messages = Array.from({ length: Math.min(500, count - done) }, (_, i) => ({
      role: (done + i) % 2 === 0 ? ('user' as const) : ('assistant' as const),
      content: `Message ${done + i + 1}: ${'lorem ipsum dolor sit amet '.repeat(1 + ((done + i) % 5))}`,
    }));
    await client.messages.appendMany.mutate({ sessionId: session.id, messages });
  }
  return session.id;
}

/** A page of this visitor that records when the first message appeared (ms since navigation). */
async function visitorPage(browser: Browser, url: string, anonymousId: string): Promise<Page> {
  const context = await browser.newContext({ baseURL: url, viewport: { width: 1280, height: 800 } });
  await context.addInitScript((id) => {
    localStorage.setItem('threadstore.anonymousId', id);
    new MutationObserver((_, observer) => {
      if (document.querySelector('article.message')) {
        (window as unknown as { firstMessageAt: number }).firstMessageAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { childList: true, subtree: true });
  }, anonymousId);
  return context.newPage();
}

async function timeToFirstMessage(browser: Browser, url: string, anonymousId: string, sessionId: string) {
  const page = await visitorPage(browser, url, anonymousId);
  await page.goto(`/chat/${sessionId}`);
  await page.locator('article.message').first().waitFor();
  const ms = await page.evaluate(() => (window as unknown as { firstMessageAt: number }).firstMessageAt);
  await page.context().close();
  return ms;
}

const product = await startProduct();
const browser = await launchBrowser();
try {
  const anonymousId = crypto.randomUUID();
  const client = createThreadstoreClient({ url: `${product.url}/trpc`, auth: { anonymousId } });
  const one = await seed(client, 'one message', 1);
  const twoHundred = await seed(client, '200 messages', 200);
  const tenThousand = await seed(client, '10,000 messages', 10_000);
  const lines: string[] = [];
  const say = (line: string) => {
    lines.push(line);
    console.log(line);
  };
  say(`# Web app performance, ${new Date().toISOString().slice(0, 10)}`);
  say('');
  say(`Chromium ${browser.version()}, headless, 1280×800, product on 127.0.0.1 (embedded PostgreSQL 18),`);
  say(`built assets served gzipped by the API; ${ROUNDS} rounds after one warm-up; load = 1-min load average.`);
  say('');

  // 1. Navigation → first message visible.
  say('## Navigation to first message visible (goal ≤ 500 ms)');
  say('');
  say('| session | median ms | range ms | load |');
  say('| --- | ---: | ---: | ---: |');
  for (const [label, sessionId] of [
    ['1 message (baseline)', one],
    ['200 messages', twoHundred],
    ['10,000 messages', tenThousand],
  ] as const) {
    await timeToFirstMessage(browser, product.url, anonymousId, sessionId);
    const times: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      times.push(await timeToFirstMessage(browser, product.url, anonymousId, sessionId));
    }
    say(`| ${label} | ${median(times).toFixed(0)} | ${range(times)} | ${load()} |`);
  }
  say('');

  // 2. JavaScript shipped for the chat page.
  const page = await visitorPage(browser, product.url, anonymousId);
  const scripts = new Map<string, number>();
  page.on('response', async (response) => {
    if (response.request().resourceType() !== 'script') return;
    const headers = await response.allHeaders();
    scripts.set(new URL(response.url()).pathname, Number(headers['content-length'] ?? 0));
  });
  await page.goto(`/chat/${twoHundred}`);
  await page.locator('article.message').first().waitFor();
  await page.waitForLoadState('networkidle');
  const total = [...scripts.values()].reduce((sum, size) => sum + size, 0);
  say('## JavaScript loaded by the chat page (goal ≤ 200 KB gzipped)');
  say('');
  say('| file | gzipped bytes |');
  say('| --- | ---: |');
  for (const [file, size] of [...scripts.entries()].sort()) say(`| ${file} | ${size} |`);
  say(`| **total** | **${total} (${(total / 1024).toFixed(1)} KB)** |`);
  say('');
  say(`load ${load()}`);
  say('');

  // 3. 10,000 messages: windowed, paged.
  let historyCalls = 0;
  page.on('request', (request) => {
    if (request.url().includes('messages.history')) historyCalls++;
  });
  await page.goto(`/chat/${tenThousand}`);
  await page.locator('article.message').first().waitFor();
  await page.waitForLoadState('networkidle');
  const rendered = async () => page.locator('article.message').count();
  const afterOpen = { calls: historyCalls, rendered: await rendered() };
  const scrollTimes: number[] = [];
  for (let i = 0; i < 10; i++) {
    const started = performance.now();
    await page.locator('.message-scroller').evaluate((element) => (element.scrollTop = 0));
    await page.waitForLoadState('networkidle');
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    scrollTimes.push(performance.now() - started);
  }
  const afterScroll = { calls: historyCalls, rendered: await rendered() };
  const firstSeq = await page
    .locator('article.message')
    .first()
    .getAttribute('aria-label')
    .then((label) => Number(/message (\d+)/.exec(label ?? '')?.[1]));
  say('## A session of 10,000 messages');
  say('');
  say('| moment | history pages fetched | messages loaded (≤) | message elements in the DOM | load |');
  say('| --- | ---: | ---: | ---: | ---: |');
  say(`| opened | ${afterOpen.calls} | ${afterOpen.calls * 50} | ${afterOpen.rendered} | ${load()} |`);
  say(
    `| after 10 scrolls to the top | ${afterScroll.calls} | ${afterScroll.calls * 50} | ${afterScroll.rendered} | ${load()} |`,
  );
  say('');
  say(
    `Each scroll to the top (load the page above, render, two frames): median ${median(scrollTimes).toFixed(0)} ms, ` +
      `range ${range(scrollTimes)} ms, load ${load()}. Oldest message on screen after them: #${firstSeq}.`,
  );
  console.error(`\n${lines.length} lines`);
} finally {
  await browser.close();
  await product.stop();
}
