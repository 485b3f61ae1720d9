import {
  accountErasureJob,
  jobDefinitions,
  retentionJob,
  searchIndexJob,
  statsJob,
  stuckRunReaperJob,
  vacuumAnalyzeJob,
  xpRollupJob,
} from '@threadstore/jobs';
import { finishErasures } from './account-erasure/handler.ts';
import { handle, withHandlers, type JobContract } from './contract.ts';
import { purgeExpired } from './retention/handler.ts';
import { indexQueuedMessages } from './search-index/handler.ts';
import { takeStatsSnapshot } from './stats/handler.ts';
import { reapStuckRuns } from './stuck-run-reaper/handler.ts';
import { vacuumAnalyze } from './vacuum-analyze/handler.ts';
import { runXpRollup } from './xp-rollup/handler.ts';

/**
 * The jobs this worker runs: each definition of @threadstore/jobs with its handler, matched by
 * name. Code that registers jobs takes the list as a parameter, so tests run their own.
 */
export const jobs: JobContract[] = withHandlers(jobDefinitions, [
  handle(retentionJob, purgeExpired),
  handle(vacuumAnalyzeJob, vacuumAnalyze),
  handle(statsJob, takeStatsSnapshot),
  handle(stuckRunReaperJob, reapStuckRuns),
  handle(xpRollupJob, runXpRollup),
  handle(accountErasureJob, finishErasures),
  handle(searchIndexJob, indexQueuedMessages),
]);
