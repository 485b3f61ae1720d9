import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pgClientConfigOf } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { createTestUser } from '@threadstore/domain/testing';
import { createLogger } from '@threadstore/runtime';
import { callerAs } from '../testing/caller.ts';
import { startTestLive } from '../testing/live.ts';
import { ChangeFeed } from './feed.ts';
import type { Live } from './live.ts';

describe('appends announced by the change feed after their commit', () => {
  const testDb = useTestDatabase();
  let live: Live;
  let other: Live;

  beforeAll(async () => {
    live = await startTestLive(testDb.orm);
    // A second API process on the same database: it learns of the first one's appends only
    // through PostgreSQL, as another instance behind a load balancer would.
    other = await startTestLive(testDb.orm);
  });
  afterAll(async () => {
    await live?.stop();
    await other?.stop();
  });

  it('wakes the watchers of the session, in this process and in another one, with the announcer in use', async () => {
    const { principal } = await createTestUser(testDb.orm.em.fork());
    const api = callerAs(testDb.orm, principal, { live });
    const session = await api.sessions.create({ title: 'watched' });
    const here = live.feed.follow({ sessionId: session.id }, { keepNotices: true });
    const there = other.feed.follow({ sessionId: session.id }, { keepNotices: true });
    const announcer = vi.spyOn(live.feed, 'announcer');
    try {
      await api.messages.append({ sessionId: session.id, role: 'user', content: 'hello' });
      await api.messages.appendMany({ sessionId: session.id, messages: [{ role: 'assistant', content: 'hi' }] });
      expect(announcer).toHaveBeenCalledTimes(2);
      expect(announcer.mock.results.every(({ value }) => typeof value === 'function')).toBe(true);

      for (const { wakeups } of [here, there]) {
        const deadline = Date.now() + 10_000;
        while (wakeups.notices.length === 0 && Date.now() < deadline) await wakeups.next(1_000, undefined);
        expect(wakeups.notices[0]).toEqual({ sessionId: session.id, userId: principal.userId, anonymousId: null });
      }
    } finally {
      announcer.mockRestore();
      here.stop();
      there.stop();
    }
  });

  it('sends what is announced while a NOTIFY is on its way in one more, each session once', async () => {
    const [first, second] = [randomUUID(), randomUUID()];
    const watchers = [first, second].map((id) => other.feed.follow({ sessionId: id }, { keepNotices: true }));
    try {
      // Nothing of the test before still on its way.
      await live.feed.announced();
      const announce = live.feed.announcer()!;
      const owner = { userId: randomUUID() };
      // The first goes out at once; the next three fall due while it is on its way.
      announce({ sessionId: first, owner });
      announce({ sessionId: first, owner });
      announce({ sessionId: first, owner });
      announce({ sessionId: second, owner });
      const total = () => watchers.reduce((sum, { wakeups }) => sum + wakeups.notices.length, 0);
      const deadline = Date.now() + 10_000;
      while (total() < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      // Four announcements, three notices: the second NOTIFY carried the first session once and the second.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(watchers.map((watcher) => watcher.wakeups.notices.length)).toEqual([2, 1]);
    } finally {
      for (const { stop } of watchers) stop();
    }
  });

  it('hands out no announcer until it is connected, nor once it stopped (the trigger announces then)', async () => {
    const feed = new ChangeFeed(pgClientConfigOf(testDb.orm), createLogger('test', 'silent'));
    expect(feed.announcer()).toBeUndefined();
    const connected = new Promise<void>((resolve) => feed.start(resolve));
    await connected;
    expect(feed.announcer()).toBeTypeOf('function');
    await feed.stop();
    expect(feed.announcer()).toBeUndefined();
  });
});
