import { isTrackedEnvelope, tracked, type TrackedEnvelope } from '@trpc/server';
import { DomainError } from '@threadstore/domain';
import * as z from 'zod';
import type { Context } from './context.ts';
import type { Live } from '../live/live.ts';

/**
 * An output schema for a subscription: every tracked event it yields is checked against `event`
 * (tRPC's own recipe, https://trpc.io/docs/server/subscriptions#output-validation), so a
 * subscription's output is validated like any procedure's.
 */
export function zTrackedEvents<TOut, TIn>(event: z.ZodType<TOut, TIn>) {
  const envelope = z.custom<TrackedEnvelope<unknown>>(isTrackedEnvelope);
  return z
    .custom<AsyncIterable<TrackedEnvelope<TIn>>>(
      (value) => typeof value === 'object' && value !== null && Symbol.asyncIterator in value,
    )
    .transform(async function* (events): AsyncGenerator<TrackedEnvelope<TOut>> {
      const iterator = events[Symbol.asyncIterator]();
      try {
        for (;;) {
          const next = await iterator.next();
          if (next.done === true) return;
          const [id, data] = envelope.parse(next.value);
          yield tracked(id, await event.parseAsync(data));
        }
      } finally {
        await iterator.return?.();
      }
    });
}

/** The live half of the server; PRECONDITION_FAILED where none is wired (in-process tests). */
export function liveOf(ctx: Pick<Context, 'live'>): Live {
  if (ctx.live === null) throw new DomainError('PRECONDITION_FAILED', 'live features are not available on this server');
  return ctx.live;
}
