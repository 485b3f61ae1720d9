import * as z from 'zod';
import { ZCursor, ZId, ZJsonObject, ZTimestamp } from './common.ts';

export const ZJobName = z.string().regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, 'a job name, e.g. "retention"');

/** A job the worker runs: what it is, when it runs, and how its last run went. */
export const ZJobInfo = z.object({
  name: ZJobName,
  description: z.string(),
  /** The contract's default schedule (UTC cron), null when it only runs on demand. */
  defaultCron: z.string().nullable(),
  /** The schedule the workers registered in pg-boss (JOB_SCHEDULES may override or turn it off). */
  schedule: z.object({ cron: z.string(), timezone: z.string() }).nullable(),
  /** Whether `{ dryRun: true }` is a payload this job understands. */
  supportsDryRun: z.boolean(),
  lastRun: z
    .object({ id: ZId, outcome: z.string(), startedAt: ZTimestamp, finishedAt: ZTimestamp.nullable() })
    .nullable(),
});
export type TJobInfo = z.infer<typeof ZJobInfo>;

export const ZListJobsOutput = z.object({ jobs: z.array(ZJobInfo) });

export const ZRunJobInput = z.strictObject({
  job: ZJobName,
  /** Checked against the job's own payload schema before anything is queued. */
  payload: ZJsonObject.optional(),
  dryRun: z.boolean().optional(),
});
export type TRunJobInput = z.infer<typeof ZRunJobInput>;

export const ZRunJobOutput = z.object({ job: ZJobName, queueJobId: z.string() });

export const ZMaintenanceRun = z.object({
  id: ZId,
  job: z.string(),
  queueJobId: z.string().nullable(),
  dryRun: z.boolean(),
  outcome: z.enum(['running', 'succeeded', 'failed', 'aborted']),
  startedAt: ZTimestamp,
  finishedAt: ZTimestamp.nullable(),
  rowsAffected: z.number().int(),
  /** The run's receipt: what it did per target, or its progress while running. */
  details: ZJsonObject,
  error: z.string().nullable(),
});
export type TMaintenanceRun = z.infer<typeof ZMaintenanceRun>;

export const ZListRunsInput = z.strictObject({
  job: ZJobName.optional(),
  limit: z.number().int().min(1).optional(),
  cursor: ZCursor.optional(),
});
export type TListRunsInput = z.infer<typeof ZListRunsInput>;

export const ZListRunsOutput = z.object({ items: z.array(ZMaintenanceRun), nextCursor: ZCursor.nullable() });

export const ZStatsSnapshot = z.object({
  id: ZId,
  takenAt: ZTimestamp,
  database: ZJsonObject,
  product: ZJsonObject,
});
export type TStatsSnapshot = z.infer<typeof ZStatsSnapshot>;

export const ZLatestStatsOutput = z.object({ snapshot: ZStatsSnapshot.nullable() });
