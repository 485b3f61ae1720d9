import type { TestProject } from 'vitest/node';
import { embeddedApiUrl, freePort, startProduct } from './product.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The product the e2e tests drive, on one origin (page and API). */
    productUrl: string;
  }
}

/**
 * One product for every e2e file: starting PostgreSQL, the API and the worker takes seconds and
 * most of a core. Tests stay independent all the same: each opens fresh browser contexts, so
 * each has its own anonymous id (its own sessions) or its own account.
 */
export default async function setup(project: TestProject) {
  // A port chosen here, so the specs that make an administrator (with `pnpm admin grant`) reach
  // this product's database instead of starting a product of their own.
  const databasePort = await freePort();
  const product = await startProduct({
    env: {
      EMBEDDED_PG_PORT: String(databasePort),
      // Slow enough that a reload lands in the middle of an answer (the built-in responder
      // writes one word per token).
      CHAT_BUILTIN_TOKEN_DELAY_MS: '40',
      CHAT_FLUSH_INTERVAL_MS: '50',
    },
  });
  project.provide('productUrl', product.url);
  project.provide('productDatabaseUrl', embeddedApiUrl(databasePort));
  return () => product.stop();
}
