import { drainSearchQueue } from '@threadstore/domain';
import type { MikroORM } from '@threadstore/db';
import type { Logger } from '@threadstore/runtime';

export interface SearchIndexer {
  /** Lets the batch in progress finish (it is one short statement), then stops. */
  stop(): Promise<void>;
}

/**
 * Keeps `messages.search` within seconds of the appends: drains the search queue (see
 * `drainSearchQueue`), sleeps `intervalMs`, and again. A pg-boss cron job cannot tick faster than
 * once a minute, and a job per append would put a queue write back on the path this takes off,
 * so it is a plain loop; each worker runs one, and SKIP LOCKED lets them share the queue. A
 * failure (database restarting) is logged and retried after the interval.
 */
export function startSearchIndexer({
  orm,
  logger,
  intervalMs,
  batchSize,
}: {
  orm: MikroORM;
  logger: Logger;
  intervalMs: number;
  batchSize: number;
}): SearchIndexer {
  const controller = new AbortController();
  const log = logger.child({ component: 'search-indexer' });
  let wake: (() => void) | undefined;
  const sleep = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, intervalMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const loop = (async () => {
    while (!controller.signal.aborted) {
      try {
        const total = await drainSearchQueue(orm.em.fork(), { batchSize, signal: controller.signal });
        if (total.taken > 0) log.debug(total, 'messages indexed for search');
      } catch (error) {
        log.warn({ err: error }, 'search indexing failed; retrying');
      }
      if (!controller.signal.aborted) await sleep();
    }
  })();
  return {
    async stop() {
      controller.abort();
      wake?.();
      await loop;
    },
  };
}
