import { createThreadstoreClient, isThreadstoreClientError, type AppRouter } from '@threadstore/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import { useMemo, type ReactNode } from 'react';
import { useAuth } from './auth.tsx';

/**
 * The typed hooks: `const trpc = useTRPC(); useQuery(trpc.sessions.list.queryOptions({...}))`.
 * Every call goes through @threadstore/client, so types come from the router and no page
 * writes a fetch of its own.
 */
export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

/**
 * Where the API is: the page's own origin (the API serves the page), or VITE_THREADSTORE_API_URL
 * at build time for a page hosted elsewhere (the API's CORS_ORIGINS must then list that origin).
 */
export const API_URL = new URL(import.meta.env.VITE_THREADSTORE_API_URL ?? '/trpc', window.location.origin);

function newQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 5_000,
        // A refused call (NOT_FOUND, FORBIDDEN…) would be refused again: retry only what may pass.
        retry: (failures, error) => failures < 2 && !isRefusal(error),
      },
    },
  });
}

/** An answer of the API saying no (4xx), as opposed to a network failure or a 5xx. */
export function isRefusal(error: unknown): boolean {
  const status = isThreadstoreClientError(error) ? error.data?.httpStatus : undefined;
  return status !== undefined && status >= 400 && status < 500;
}

/**
 * Provides the typed client and the query cache for the current identity. Signing in or out
 * makes a new client and an empty cache: nothing fetched as one principal is shown to another.
 */
export function ApiProvider({ children }: { children: ReactNode }) {
  const { auth } = useAuth();
  const { client, queryClient } = useMemo(
    () => ({ client: createThreadstoreClient({ url: API_URL, auth }), queryClient: newQueryClient() }),
    [auth],
  );
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={client} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}
