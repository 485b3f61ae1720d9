import { DomainError } from '@threadstore/domain';

/**
 * A bounded share of the API's database pool for callers without credentials (no principal, or
 * an anonymous visitor). Anyone can mint those, so a burst of them could otherwise take every
 * pooled connection and starve signed-in users and API keys, whose calls never wait here. At
 * most `limit` such calls run at once; up to `queue` more wait their turn in memory (holding no
 * connection); beyond that a call is refused at once with TOO_MANY_REQUESTS.
 */
export interface CallShare {
  run<T>(fn: () => Promise<T>): Promise<T>;
}

export const unlimitedShare: CallShare = { run: (fn) => fn() };

export function createCallShare({ limit, queue }: { limit: number; queue: number }): CallShare {
  let running = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  };
  return {
    async run(fn) {
      if (running < limit) {
        running += 1;
      } else {
        if (waiting.length >= queue) {
          throw new DomainError('TOO_MANY_REQUESTS', 'too many calls without credentials right now; retry in 1 s', {
            retryAfterSeconds: 1,
          });
        }
        // The slot is handed over by `release`, so `running` stays counted meanwhile.
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
      try {
        return await fn();
      } finally {
        release();
      }
    },
  };
}
