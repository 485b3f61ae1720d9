import type { JobContract } from './contract.ts';
import { retentionJob } from './retention/contract.ts';
import { searchIndexJob } from './search-index/contract.ts';
import { statsJob } from './stats/contract.ts';
import { stuckRunReaperJob } from './stuck-run-reaper/contract.ts';
import { vacuumAnalyzeJob } from './vacuum-analyze/contract.ts';
import { xpRollupJob } from './xp-rollup/contract.ts';

/**
 * The jobs this worker runs, listed explicitly (no discovery). Retention, vacuum, stats, XP
 * rollups and the reaper are added here as they are written. Code that registers jobs takes
 * the list as a parameter, so tests run their own.
 */
export const jobs: JobContract[] = [retentionJob, vacuumAnalyzeJob, statsJob, stuckRunReaperJob, xpRollupJob];
jobs.push(searchIndexJob);
