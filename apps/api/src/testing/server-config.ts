import { apiEnvSchema } from '../env.ts';
import type { ApiServerConfig } from '../server.ts';

/** The server settings a deployment gets by default, on a random local port, for tests. */
export function testServerConfig(overrides: Partial<ApiServerConfig> = {}): ApiServerConfig {
  // The URL only satisfies the schema; the server is handed an ORM, not a URL.
  const defaults = apiEnvSchema.parse({ DATABASE_URL: 'postgresql://unused@127.0.0.1/unused', NODE_ENV: 'test' });
  // Every test client shares 127.0.0.1, so the per-address budget is off unless a test asks for it.
  // No page at /: whether apps/web happens to be built must not change what a test sees.
  return {
    ...defaults,
    API_HOST: '127.0.0.1',
    API_PORT: 0,
    RATE_LIMIT_ADDRESS_PER_MINUTE: 0,
    WEB_DIST_DIR: '',
    ...overrides,
  };
}
