import { ZChatStreamEvent, ZChatStreamInput, type TChatStreamEvent } from '@threadstore/contract';
import type { Generation } from '@threadstore/domain';
import { tracked, type TrackedEnvelope } from '@trpc/server';
import { actorOf } from '../../trpc/context.ts';
import { principalProcedure } from '../../trpc/init.ts';
import { liveOf, zTrackedEvents } from '../../trpc/subscriptions.ts';

/** Without a notification, a stream re-reads the answer this often anyway (every partial write notifies). */
const POLL_MS = 10_000;
const FINISHED = new Set(['completed', 'incomplete', 'interrupted', 'cancelled']);

/** The offset a client last saw, from its last event id (`"123"` or `"123:done"`). */
function offsetOf(lastEventId: string | null | undefined): number {
  const offset = Number.parseInt(lastEventId ?? '0', 10);
  return Number.isSafeInteger(offset) && offset > 0 ? offset : 0;
}

/**
 * A turn's answer as it is generated. In the process writing it, token by token; elsewhere from
 * the partial answer in PostgreSQL, woken by the change feed. Event ids are offsets into the
 * answer, so a reconnect with `lastEventId` continues exactly where the client stopped.
 */
export const stream = principalProcedure
  .input(ZChatStreamInput)
  .output(zTrackedEvents(ZChatStreamEvent))
  .subscription(async ({ ctx, input, signal }) => {
    const { loop, feed } = liveOf(ctx);
    const actor = actorOf(ctx);
    // Checked before the stream starts, so a foreign or missing turn is a plain NOT_FOUND.
    const first = await loop.turn(ctx.orm.em.fork(), actor, input.turnId);
    return (async function* (): AsyncGenerator<TrackedEnvelope<TChatStreamEvent>> {
      let offset = offsetOf(input.lastEventId);
      const { wakeups, stop } = feed.follow({ sessionId: first.sessionId });
      let following: Generation | null = null;
      try {
        for (;;) {
          const generation = loop.generation(input.turnId);
          if (generation !== undefined && generation !== following) {
            release(following);
            following = generation;
            generation.listeners++;
          }
          if (generation !== undefined) {
            if (generation.text.length > offset) {
              const text = generation.text.slice(offset);
              yield tracked(String(offset + text.length), { type: 'delta', offset, text });
              offset += text.length;
              continue;
            }
            if (wakeups.closed || signal?.aborted) return;
            await Promise.race([generation.changed(), abortOf(signal)]);
            continue;
          }
          const turn = await feed.read(() => loop.turn(ctx.orm.em.fork(), actor, input.turnId));
          const text = turn.answer?.content ?? '';
          if (text.length > offset) {
            yield tracked(String(text.length), { type: 'delta', offset, text: text.slice(offset) });
            offset = text.length;
          }
          if (FINISHED.has(turn.status)) {
            yield tracked(`${offset}:done`, { type: 'done', turn });
            return;
          }
          if (wakeups.closed || signal?.aborted) return;
          await wakeups.next(POLL_MS, signal);
        }
      } finally {
        stop();
        release(following);
      }
    })();
  });

/** A follower leaves; the last one leaving stops the answer when the settings say so. */
function release(generation: Generation | null): void {
  if (generation === null) return;
  generation.listeners--;
  if (generation.listeners === 0 && generation.stopOnDisconnect) generation.stop('disconnected');
}

function abortOf(signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return new Promise(() => undefined);
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
