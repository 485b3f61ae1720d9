import { createTRPCClient, httpLink, httpSubscriptionLink, splitLink, type TRPCClient } from '@trpc/client';
import { EventSource } from 'eventsource';
import type { AppRouter } from '../src/index.ts';

/**
 * A typed client for `url` (…/trpc) as an anonymous visitor: queries and mutations over plain
 * HTTP, subscriptions over SSE (credentials as connection params, as a browser must send them).
 */
export function liveClient(url: string, anonymousId: string): TRPCClient<AppRouter> {
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({ url, EventSource, connectionParams: { 'x-session-id': anonymousId } }),
        false: httpLink({ url, headers: { 'x-session-id': anonymousId } }),
      }),
    ],
  });
}

/** Collects a subscription's events until `until` says stop (then unsubscribes), or fails after `timeoutMs`. */
export function collect<T>(
  subscribe: (handlers: { onData: (value: T) => void; onError: (error: unknown) => void }) => { unsubscribe(): void },
  until: (events: T[]) => boolean,
  timeoutMs = 30_000,
): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const events: T[] = [];
    let subscription: { unsubscribe(): void } | null = null;
    let finished = false;
    const finish = (error?: unknown) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      queueMicrotask(() => subscription?.unsubscribe());
      if (error === undefined) resolve(events);
      else reject(error instanceof Error ? error : new Error(String(error)));
    };
    const timer = setTimeout(
      () => finish(new Error(`gave up after ${timeoutMs} ms with ${events.length} events`)),
      timeoutMs,
    );
    subscription = subscribe({
      onData: (value) => {
        events.push(value);
        if (until(events)) finish();
      },
      onError: (error) => finish(error),
    });
  });
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
