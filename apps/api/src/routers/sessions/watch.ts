import {
  ZSessionListWatchEvent,
  ZSessionWatchEvent,
  ZWatchSessionInput,
  ZWatchSessionListInput,
  type TSessionListWatchEvent,
  type TSessionWatchEvent,
} from '@threadstore/contract';
import { findOwnedSession, ownedSessionsByIds, ownerOf, sessionsChangedSince, SessionWatch } from '@threadstore/domain';
import { tracked, type TrackedEnvelope } from '@trpc/server';
import { ownerKey } from '../../live/feed.ts';
import { principalProcedure } from '../../trpc/init.ts';
import { liveOf, zTrackedEvents } from '../../trpc/subscriptions.ts';

/**
 * Without a notification, a watcher re-reads this often anyway: a safety net, not the mechanism
 * (a lost listening connection already wakes every watcher when it is back). Rare on purpose:
 * with a thousand watchers per process, a 5 s net alone cost 400 queries a second and delayed
 * the real notifications by seconds (bench/loop).
 */
const POLL_MS = 60_000;

/**
 * One session, live: its state, new messages, answers as they grow. Every wake-up re-reads as
 * the caller (another principal's session is NOT_FOUND, a deleted one ends the stream). Event
 * ids are the last seq delivered: reconnecting with it catches up on every message after it.
 */
export const watch = principalProcedure
  .input(ZWatchSessionInput)
  .output(zTrackedEvents(ZSessionWatchEvent))
  .subscription(async ({ ctx, input, signal }) => {
    const { feed } = liveOf(ctx);
    const owner = ownerOf(ctx.principal);
    // Checked before the stream starts, so a foreign or missing session is a plain NOT_FOUND.
    const session = await findOwnedSession(ctx.orm.em.fork(), owner, input.sessionId);
    return (async function* (): AsyncGenerator<TrackedEnvelope<TSessionWatchEvent>> {
      const resumeSeq = Number.parseInt(input.lastEventId ?? '', 10);
      const state = new SessionWatch(owner, session.id, Number.isSafeInteger(resumeSeq) ? resumeSeq : session.lastSeq);
      const { wakeups, stop } = feed.follow({ sessionId: session.id });
      try {
        for (;;) {
          const events = await feed.read(() => state.next(ctx.orm.em.fork()));
          if (events === null) return;
          for (const event of events) yield tracked(String(state.seq), event);
          if (wakeups.closed || signal?.aborted) return;
          await wakeups.next(POLL_MS, signal);
        }
      } finally {
        stop();
      }
    })();
  });

/**
 * The caller's session list, live: each of their sessions that is created or changes. Event ids
 * are the session's `updatedAt`; reconnecting with it catches up on every session changed since.
 */
export const watchList = principalProcedure
  .input(ZWatchSessionListInput)
  .output(zTrackedEvents(ZSessionListWatchEvent))
  .subscription(async ({ ctx, input, signal }) => {
    const { feed } = liveOf(ctx);
    const owner = ownerOf(ctx.principal);
    return (async function* (): AsyncGenerator<TrackedEnvelope<TSessionListWatchEvent>> {
      const { wakeups, stop } = feed.follow({ ownerKey: ownerKey(owner) }, { keepNotices: true });
      try {
        const since = input.lastEventId == null ? null : new Date(input.lastEventId);
        if (since !== null && !Number.isNaN(since.getTime())) {
          for (const session of await feed.read(() => sessionsChangedSince(ctx.orm.em.fork(), owner, since))) {
            yield tracked(session.updatedAt, { type: 'session', session });
          }
        }
        for (;;) {
          if (wakeups.closed || signal?.aborted) return;
          await wakeups.next(POLL_MS, signal);
          const ids = [...new Set(wakeups.notices.splice(0).map(({ sessionId }) => sessionId))];
          for (const session of await feed.read(() => ownedSessionsByIds(ctx.orm.em.fork(), owner, ids))) {
            yield tracked(session.updatedAt, { type: 'session', session });
          }
        }
      } finally {
        stop();
      }
    })();
  });
