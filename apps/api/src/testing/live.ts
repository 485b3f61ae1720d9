import { DEFAULT_CONTENT_LIMITS } from '@threadstore/contract';
import type { MikroORM } from '@threadstore/db';
import { createLogger } from '@threadstore/runtime';
import { chatDefaultsFrom } from '../chat-env.ts';
import { createLive, type Live } from '../live/live.ts';
import { testServerConfig } from './server-config.ts';

/** The live feed and conversation loop of an in-process API (the built-in responder), listening. */
export async function startTestLive(orm: MikroORM): Promise<Live> {
  const live = createLive({
    orm,
    logger: createLogger('test', 'silent'),
    defaults: chatDefaultsFrom(testServerConfig()),
    limits: DEFAULT_CONTENT_LIMITS,
  });
  await live.start();
  await live.connected;
  return live;
}
