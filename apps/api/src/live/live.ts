import type { ContentLimits } from '@threadstore/contract';
import { pgClientConfigOf, type MikroORM } from '@threadstore/db';
import {
  ConversationLoop,
  type ChatDefaults,
  type MemoriesSource,
  type Responder,
  type ChatSettings,
} from '@threadstore/domain';
import type { Logger } from '@threadstore/runtime';
import { ChangeFeed } from './feed.ts';

/** How often the loop looks for answers whose writer died (besides at start). */
const REAP_INTERVAL_MS = 5_000;

/** The live half of an API process: its change feed and its conversation loop. */
export interface Live {
  feed: ChangeFeed;
  loop: ConversationLoop;
  start(): Promise<void>;
  /** Resolves once the change feed is connected for the first time. */
  connected: Promise<void>;
  stop(): Promise<void>;
}

export interface LiveOptions {
  orm: MikroORM;
  logger: Logger;
  defaults: ChatDefaults;
  limits: ContentLimits;
  /** Where prompts get their memories (default: the stored ones, as memories.context ranks them). */
  memories?: MemoriesSource;
  /** Tests and benchmarks pick a responder; by default the settings do. */
  responderFor?: (settings: ChatSettings) => Responder;
  reapIntervalMs?: number;
}

export function createLive({
  orm,
  logger,
  defaults,
  limits,
  memories,
  responderFor,
  reapIntervalMs = REAP_INTERVAL_MS,
}: LiveOptions): Live {
  const feed = new ChangeFeed(pgClientConfigOf(orm), logger.child({ component: 'change-feed' }));
  const loop = new ConversationLoop({
    orm,
    defaults,
    limits,
    holder: () => feed.holder(),
    ...(memories === undefined ? {} : { memories }),
    ...(responderFor === undefined ? {} : { responderFor }),
    onError: (error, context) => logger.error({ err: error, context }, 'conversation loop failed'),
  });
  feed.onCancel((turnId, reason) => loop.stopLocal(turnId, reason));
  let reaper: NodeJS.Timeout | null = null;
  let markConnected: () => void = () => undefined;
  const connected = new Promise<void>((resolve) => (markConnected = resolve));
  let stopped = false;
  // The reap in flight, if any: stop() waits for it, so nothing of this process still holds a
  // pooled connection once the server is closed (the ORM's close would wait for it forever).
  let reaping: Promise<void> = Promise.resolve();
  const reap = () => {
    reaping = loop.reap().catch((error: unknown) => logger.warn({ err: error }, 'reaping interrupted answers failed'));
    return reaping;
  };
  return {
    feed,
    loop,
    connected,
    start() {
      feed.onHolderChange((from, to) => {
        void loop
          .moveHolder(from, to)
          .catch((error: unknown) => logger.error({ err: error }, 'cannot move running answers to the new connection'));
      });
      // Once connected: answers a killed process left "generating" are marked interrupted now,
      // not in a while, and then every few seconds by whichever process looks first.
      feed.start(() => {
        markConnected();
        if (stopped || reaper !== null) return;
        void reap();
        reaper = setInterval(() => void reap(), reapIntervalMs);
        reaper.unref();
      });
      return Promise.resolve();
    },
    async stop() {
      stopped = true;
      if (reaper !== null) clearInterval(reaper);
      await reaping;
      await loop.close();
      await feed.stop();
    },
  };
}
