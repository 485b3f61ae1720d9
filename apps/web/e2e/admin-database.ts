import { afterAll, beforeAll, inject } from 'vitest';
import { e2e, type E2E } from './fixtures.ts';
import { embeddedApiUrl, freePort, startProduct } from './product.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The shared product's database, as the API connects to it, when the global setup tells it. */
    productDatabaseUrl?: string;
  }
}

export interface AdminProduct {
  /** Page and API, as in `e2e().url`. */
  url: string;
  /** What `pnpm admin grant` connects to (the API's role is enough). */
  databaseUrl: string;
  stop(): Promise<void>;
}

/**
 * A product whose database the test can reach, to make an administrator with the operators' own
 * command: the shared one when the global setup says where its database is, else one of this
 * file's own, started as start.sh starts it on an embedded PostgreSQL at a port chosen here.
 */
export async function adminProduct(): Promise<AdminProduct> {
  const shared = inject('productDatabaseUrl');
  if (shared !== undefined) return { url: inject('productUrl'), databaseUrl: shared, stop: async () => {} };
  const port = await freePort();
  const product = await startProduct({ env: { EMBEDDED_PG_PORT: String(port) } });
  return { url: product.url, databaseUrl: embeddedApiUrl(port), stop: () => product.stop() };
}

/**
 * The enclosing describe's product (as adminProduct) and browser (as e2e()), opened before its
 * tests and closed after them. Read them inside tests.
 */
export function useAdminProduct(): { readonly t: E2E; readonly product: AdminProduct } {
  let t: E2E | undefined;
  let product: AdminProduct | undefined;
  beforeAll(async () => {
    product = await adminProduct();
    t = await e2e();
  });
  afterAll(async () => {
    await t?.close();
    await product?.stop();
  });
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useAdminProduct: open only inside hooks and tests');
    return value;
  };
  return {
    get t() {
      return ready(t);
    },
    get product() {
      return ready(product);
    },
  };
}
