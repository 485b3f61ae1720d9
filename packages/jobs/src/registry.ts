import type { JobDefinition } from './define.ts';
import { accountErasureJob } from './definitions/account-erasure.ts';
import { searchIndexJob } from './definitions/search-index.ts';
import { retentionJob } from './definitions/retention.ts';
import { statsJob } from './definitions/stats.ts';
import { stuckRunReaperJob } from './definitions/stuck-run-reaper.ts';
import { vacuumAnalyzeJob } from './definitions/vacuum-analyze.ts';
import { xpRollupJob } from './definitions/xp-rollup.ts';

/**
 * Every job, listed explicitly (no discovery): one file per job in `definitions/`, added here.
 * The worker pairs each with its handler by name (apps/worker/src/jobs/registry.ts) and refuses to
 * start when one has none; the API lists and sends them. Code that takes jobs takes the list as a
 * parameter, so tests run their own.
 */
export const jobDefinitions: readonly JobDefinition[] = [
  retentionJob,
  vacuumAnalyzeJob,
  statsJob,
  stuckRunReaperJob,
  xpRollupJob,
  accountErasureJob,
  searchIndexJob,
];
