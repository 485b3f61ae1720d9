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
 * so it is a plain loop; SKIP LOCKED lets any number of them (`loops` in each worker) share the
 * queue. Every batch takes what people wrote before a bulk import's backlog, so more loops do not
 * make appends searchable sooner except by starting batches more often; they drain a backlog
 * faster while PostgreSQL has a core to spare (bench/import/indexer.ts). A failure (database
 * restarting) is logged and retried after the interval.
 */
export function startSearchIndexer({
  orm,
  logger,
  intervalMs,
  batchSize,
  loops = 1,
}: {
  orm: MikroORM;
  logger: Logger;
  intervalMs: number;
  batchSize: number;
  loops?: number;
}): SearchIndexer {
  const controller = new AbortController();
  const log = logger.child({ component: 'search-indexer' });
  const wakers = new Set<() => void>();
  const sleep = () =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, intervalMs);
      wakers.add(wake);
    });
  const loop = async () => {
    while (!controller.signal.aborted) {
      try {
        const total = await drainSearchQueue(orm.em.fork(), { batchSize, signal: controller.signal });
        if (total.taken > 0) log.debug(total, 'messages indexed for search');
      } catch (error) {
        log.warn({ err: error }, 'search indexing failed; retrying');
      }
      if (!controller.signal.aborted) await sleep();
    }
  };
  const running = Promise.all(Array.from({ length: loops }, loop));
  return {
    async stop() {
      controller.abort();
      for (const wake of [...wakers]) wake();
      await running;
    },
  };
}
