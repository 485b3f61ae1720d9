import type { XpRollupPayload } from '@threadstore/jobs';
import { rollUpXp } from '@threadstore/domain';
import type { JobContext, JobResult } from '../contract.ts';

// The fold itself is a domain function (packages/domain/src/academy/rollup), so the API's tests
// can settle XP the way this job does without importing worker code.

/** The job's handler: the rollup with the run's abort signal, reporting each committed batch as progress. */
export async function runXpRollup({
  em,
  payload,
  signal,
  reportProgress,
}: JobContext<XpRollupPayload>): Promise<JobResult> {
  const report = await rollUpXp(em, {
    ...payload,
    signal,
    onBatch: (progress) => reportProgress({ mode: payload.mode, dryRun: payload.dryRun, ...progress }),
  });
  return {
    rowsAffected: report.ledgerRows + report.learnersRebuilt,
    details: { mode: payload.mode, dryRun: payload.dryRun, ...report },
  };
}
