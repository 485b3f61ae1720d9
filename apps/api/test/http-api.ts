import type { MikroORM } from '@threadstore/db';
import { captureLogs, type JsonLines } from '@threadstore/runtime/testing';
import { createTRPCClient, httpLink, TRPCClientError, type TRPCClient } from '@trpc/client';
import type { AppRouter } from '../src/index.ts';
import { createApiServer, type ApiServerConfig, type ApiServerOptions } from '../src/server.ts';
import { testServerConfig } from '../src/testing/server-config.ts';

export interface RunningApi {
  url: string;
  logs: JsonLines;
  /** A typed client sending `headers` with every call, one HTTP request per call (no batching). */
  client(headers?: Record<string, string>): TRPCClient<AppRouter>;
  close(): Promise<void>;
}

/** The real HTTP server on a random local port, configured like a deployment plus `overrides`. */
export async function startApi(
  orm: MikroORM,
  overrides: Partial<ApiServerConfig> = {},
  options: Pick<ApiServerOptions, 'rateLimiter'> = {},
): Promise<RunningApi> {
  const { logger, logs } = captureLogs('api');
  const api = createApiServer({ orm, logger, config: testServerConfig(overrides), ...options });
  const { port } = await api.listen();
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    logs,
    client: (headers = {}) => createTRPCClient<AppRouter>({ links: [httpLink({ url: `${url}/trpc`, headers })] }),
    close: () => api.close(),
  };
}

/** The error a call failed with, for asserting on its code and message; fails the test if it succeeded. */
export async function failureOf(call: Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
  const outcome = await call.then(
    () => new Error('expected the call to fail, but it succeeded'),
    (error: unknown) => error,
  );
  if (!(outcome instanceof TRPCClientError)) throw outcome;
  return outcome as TRPCClientError<AppRouter>;
}
