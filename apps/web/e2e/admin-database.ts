import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The product's database, as the API connects to it: what `pnpm admin grant` needs. */
    productDatabaseUrl: string;
  }
}

/** The database of the product under test, for the operators' commands (`pnpm admin grant`). */
export async function adminDatabaseUrl(): Promise<string> {
  return inject('productDatabaseUrl');
}
