/**
 * The contract between the apps for background jobs: what each job is called, what it accepts,
 * how its queue behaves and when it runs by default. The worker adds handlers; the API sends.
 */
export { deadLetterQueueName, defineJob, type JobDefinition, type JobQueueOptions, type JobSpec } from './define.ts';
export { JobPayloadError, parsePayloadText, preparePayload, supportsDryRun } from './payload.ts';
export { jobDefinitions } from './registry.ts';
export {
  cronProblem,
  resolveSchedules,
  SCHEDULE_OFF,
  SCHEDULE_TZ,
  type ScheduledJob,
  type ScheduleOverrides,
} from './schedule.ts';
export { retentionJob, retentionPayload, type RetentionPayload } from './definitions/retention.ts';
export { statsJob, statsPayload, type StatsPayload } from './definitions/stats.ts';
export {
  stuckRunReaperJob,
  stuckRunReaperPayload,
  type StuckRunReaperPayload,
} from './definitions/stuck-run-reaper.ts';
export { vacuumAnalyzeJob, vacuumAnalyzePayload, type VacuumAnalyzePayload } from './definitions/vacuum-analyze.ts';
export { xpRollupJob, xpRollupPayload, type XpRollupPayload } from './definitions/xp-rollup.ts';
export { accountErasureJob, accountErasurePayload, type AccountErasurePayload } from './definitions/account-erasure.ts';
export { searchIndexJob, searchIndexPayload, type SearchIndexPayload } from './definitions/search-index.ts';
