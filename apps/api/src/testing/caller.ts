import { DEFAULT_CONTENT_LIMITS, type ContentLimits } from '@threadstore/contract';
import type { MikroORM } from '@threadstore/db';
import type { Principal } from '@threadstore/domain';
import { createLogger } from '@threadstore/runtime';
import type { Live } from '../live/live.ts';
import { createCaller } from '../routers/_app.ts';
import { createContextInner, type RequestConfig } from '../trpc/context.ts';

const TEST_CONFIG: RequestConfig = { NODE_ENV: 'test', READINESS_TIMEOUT_MS: 2_000 };

/**
 * The whole API, called in-process as `principal` (or as nobody), each call with its own
 * context and so its own EntityManager fork, exactly as over HTTP.
 */
export function callerAs(
  orm: MikroORM,
  principal: Principal | null,
  {
    limits = DEFAULT_CONTENT_LIMITS,
    requestId = 'test-request',
    live = null,
  }: { limits?: ContentLimits; requestId?: string; live?: Live | null } = {},
): ReturnType<typeof createCaller> {
  return createCaller(() =>
    createContextInner({
      orm,
      logger: createLogger('test', 'silent'),
      config: TEST_CONFIG,
      limits,
      requestId,
      principal,
      live,
    }),
  );
}
