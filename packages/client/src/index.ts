/**
 * The typed Threadstore client for browsers and Node. The router's types come from
 * `@threadstore/api` as types only, so no server code ends up in a bundle (a test checks).
 */
export * from '@threadstore/contract';
export type { AppRouter, RouterInputs, RouterOutputs } from '@threadstore/api';
export { TRPCClientError } from '@trpc/client';
export * from './client.ts';
export * from './anonymous-id.ts';
