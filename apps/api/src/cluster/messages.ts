/** What a cluster's primary and its API workers say to each other over IPC (see primary.ts). */

/** Primary → worker: stop as on SIGTERM (finish in-flight calls, close the pool, exit 0). */
export const SHUTDOWN_MESSAGE = 'threadstore:shutdown';

/** Worker → primary: the /metrics text of every worker, added up. */
export interface MetricsRequest {
  type: 'threadstore:metrics-request';
  id: number;
}

/** Primary → worker: the answer to a MetricsRequest with the same id. */
export type MetricsReply = { type: 'threadstore:metrics-reply'; id: number } & (
  { text: string; contentType: string } | { error: string }
);

export const isMetricsRequest = (message: unknown): message is MetricsRequest =>
  typeof message === 'object' &&
  message !== null &&
  (message as { type?: unknown }).type === 'threadstore:metrics-request';

export const isMetricsReply = (message: unknown): message is MetricsReply =>
  typeof message === 'object' &&
  message !== null &&
  (message as { type?: unknown }).type === 'threadstore:metrics-reply';
