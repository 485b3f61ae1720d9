import type { TRPCRouterRecord } from '@trpc/server';
import { cancel, send, turn } from './send.ts';
import { stream } from './stream.ts';

export const chatRouter = {
  send,
  cancel,
  turn,
  stream,
} satisfies TRPCRouterRecord;
