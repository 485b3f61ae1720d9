import type { SearchIndexPayload } from '@threadstore/jobs';
import { drainSearchQueue } from '@threadstore/domain';
import type { JobContext, JobResult } from '../contract.ts';

/** Drains the search queue in batches until it is empty or the run is aborted. */
export async function indexQueuedMessages({
  em,
  payload,
  signal,
  reportProgress,
}: JobContext<SearchIndexPayload>): Promise<JobResult> {
  const total = await drainSearchQueue(em, { batchSize: payload.batchSize, signal });
  await reportProgress({ ...total });
  return { rowsAffected: total.indexed, details: { ...total, stoppedEarly: signal.aborted } };
}
