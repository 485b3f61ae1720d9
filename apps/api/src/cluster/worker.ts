import { AggregatorRegistry, type Registry } from 'prom-client';
import { isMetricsReply, type MetricsReply } from './messages.ts';

export interface MetricsText {
  text: string;
  contentType: string;
}

// Longer than prom-client's own 5 s for gathering the workers' metrics, so its error comes first.
const METRICS_TIMEOUT_MS = 6_000;

/**
 * In an API worker: lets the primary collect this worker's `registry` (prom-client answers its
 * requests once an AggregatorRegistry exists here), and returns what /metrics serves: every
 * worker's metrics added up, asked of the primary over IPC.
 */
export function clusterMetrics(registry: Registry): () => Promise<MetricsText> {
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  const pending = new Map<number, (reply: MetricsReply) => void>();
  let nextId = 0;
  process.on('message', (message: unknown) => {
    if (isMetricsReply(message)) pending.get(message.id)?.(message);
  });
  return () =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('the cluster primary did not answer for /metrics'));
      }, METRICS_TIMEOUT_MS);
      pending.set(id, (reply) => {
        clearTimeout(timer);
        pending.delete(id);
        if ('error' in reply) reject(new Error(`gathering the workers' metrics failed: ${reply.error}`));
        else resolve({ text: reply.text, contentType: reply.contentType });
      });
      process.send?.({ type: 'threadstore:metrics-request', id });
    });
}
