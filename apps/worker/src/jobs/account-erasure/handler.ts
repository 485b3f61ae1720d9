import { resumeStaleErasures } from '@threadstore/domain';
import type { JobContext, JobResult } from '../contract.ts';
import type { AccountErasurePayload } from '@threadstore/jobs';

/**
 * The erasure itself is the domain's (`account.erase` runs the same code in the API); this job
 * only finds the ones nobody is running any more. Its receipt counts rows per table, never whose.
 */
export async function finishErasures({
  em,
  payload,
  signal,
  reportProgress,
}: JobContext<AccountErasurePayload>): Promise<JobResult> {
  const counts: Record<string, number> = {};
  const receipts = await resumeStaleErasures(em, {
    staleAfterSeconds: payload.staleAfterSeconds,
    batchSize: payload.batchSize,
    signal,
    onBatch: async (table, rows) => {
      counts[table] = (counts[table] ?? 0) + rows;
      await reportProgress({ counts });
    },
  });
  return {
    rowsAffected: Object.values(counts).reduce((total, rows) => total + rows, 0),
    details: {
      erasures: receipts.map((receipt) => ({ erasureId: receipt.erasureId, status: receipt.status })),
      counts,
      stoppedEarly: signal.aborted,
    },
  };
}
