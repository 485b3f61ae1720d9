import { createApiServer, type ApiServer, type ApiServerConfig } from '@threadstore/api/server';
import { testServerConfig } from '@threadstore/api/testing';
import type { MikroORM } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { createLogger } from '@threadstore/runtime';
import { afterAll, beforeAll } from 'vitest';

export interface ApiServerHandle {
  /** The tRPC endpoint, as a frontend would configure it. */
  readonly url: string;
  readonly orm: MikroORM;
}

/**
 * The real API server on this file's own database and a random local port, for the tests of
 * the enclosing `describe` (or file). Read `url` and `orm` inside hooks and tests.
 */
export function useApiServer(overrides: Partial<ApiServerConfig> = {}): ApiServerHandle {
  const testDb = useTestDatabase();
  let api: ApiServer | undefined;
  let url: string | undefined;
  beforeAll(async () => {
    api = createApiServer({
      orm: testDb.orm,
      logger: createLogger('api', 'silent'),
      config: testServerConfig(overrides),
    });
    const { port } = await api.listen();
    url = `http://127.0.0.1:${port}/trpc`;
  });
  afterAll(() => api?.close());
  return {
    get url() {
      if (url === undefined) throw new Error('useApiServer: the server runs only inside hooks and tests');
      return url;
    },
    get orm() {
      return testDb.orm;
    },
  };
}
