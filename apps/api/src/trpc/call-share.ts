import { DomainError } from '@threadstore/domain';

/**
 * A bounded share of the API's database pool for one kind of call. Two are in use (init.ts):
 *  - callers without credentials (no principal, or an anonymous visitor): anyone can mint those,
 *    so a burst of them could otherwise take every pooled connection and starve signed-in users
 *    and API keys, whose calls never wait there;
 *  - mutations (see `writeLimit`): a write holds its connection until its commit is flushed to
 *    disk, so one slow WAL flush would otherwise leave every connection to writes waiting on it,
 *    and reads, which need no flush, would queue behind them.
 * At most `limit` such calls run at once; up to `queue` more wait their turn in memory (holding
 * no connection); beyond that a call is refused at once with `refuse()`'s error.
 */
export interface CallShare {
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Calls waiting for a slot now (for the metrics). */
  readonly waiting: number;
}

export const unlimitedShare: CallShare = { run: (fn) => fn(), waiting: 0 };

const refuseAnonymous = () =>
  new DomainError('TOO_MANY_REQUESTS', 'too many calls without credentials right now; retry in 1 s', {
    retryAfterSeconds: 1,
  });

export function createCallShare({
  limit,
  queue,
  refuse = refuseAnonymous,
}: {
  limit: number;
  queue: number;
  refuse?: () => Error;
}): CallShare {
  let running = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  };
  return {
    get waiting() {
      return waiting.length;
    },
    async run(fn) {
      if (running < limit) {
        running += 1;
      } else {
        if (waiting.length >= queue) throw refuse();
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

/**
 * How many mutations may run at once in a process whose pool holds `poolMax` connections, so that
 * `readReserve` of them are always left to reads (at least one write slot, whatever the reserve).
 */
export function writeLimit(poolMax: number, readReserve: number): number {
  return Math.max(1, poolMax - readReserve);
}
