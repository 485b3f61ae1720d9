import * as z from 'zod';
import { ZCursor, ZId, ZJsonObject, ZMoney, ZTimestamp } from './common.ts';

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

const DAY_MS = 86_400_000;

export const ZStatsSeriesInput = z
  .strictObject({
    /** Start of the range; defaults to 30 days before `until`. */
    since: ZTimestamp.optional(),
    /** End of the range; defaults to now. */
    until: ZTimestamp.optional(),
    /** Most snapshots the size series carry; more in the range are thinned to evenly spaced ones. */
    maxPoints: z.number().int().min(2).max(1_000).optional(),
  })
  .prefault({})
  .refine(({ since, until }) => since === undefined || until === undefined || Date.parse(since) < Date.parse(until), {
    message: 'since must come before until',
    path: ['since'],
  })
  .refine(
    ({ since, until }) =>
      since === undefined ||
      (until === undefined ? Date.now() : Date.parse(until)) - Date.parse(since) <= 3_650 * DAY_MS,
    { message: 'a range of at most 3650 days', path: ['since'] },
  );
export type TStatsSeriesInput = z.infer<typeof ZStatsSeriesInput>;

/** One number per sampled snapshot (aligned with `takenAt`); null where the snapshot lacks it. */
const ZSeries = z.array(z.number().nullable());

/** One table's figures over time. */
export const ZTableSeries = z.object({
  table: z.string(),
  tableBytes: ZSeries,
  indexBytes: ZSeries,
  deadTuples: ZSeries,
  liveTuples: ZSeries,
});
export type TTableSeries = z.infer<typeof ZTableSeries>;

const dayFigures = {
  messages: z.number().int().nonnegative(),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  cost: ZMoney,
};

/** The product's figures for one UTC day, as the newest snapshot covering that day counted them. */
export const ZStatsDay = z.object({
  day: z.iso.date(),
  sessionsCreated: z.number().int().nonnegative(),
  activeUsers: z.number().int().nonnegative(),
  activeAnonymous: z.number().int().nonnegative(),
  ...dayFigures,
});
export type TStatsDay = z.infer<typeof ZStatsDay>;

/** One model's share of a day; `model` is null for messages no model wrote (the users' own). */
export const ZStatsDayModel = z.object({ day: z.iso.date(), model: z.string().nullable(), ...dayFigures });
export type TStatsDayModel = z.infer<typeof ZStatsDayModel>;

/** The stats snapshots over a range, shaped for charts. */
export const ZStatsSeriesOutput = z.object({
  since: ZTimestamp,
  until: ZTimestamp,
  /** Snapshots taken in the range, before thinning. */
  snapshotsInRange: z.number().int().nonnegative(),
  /** When each sampled snapshot was taken, oldest first; every size series aligns with it. */
  takenAt: z.array(ZTimestamp),
  databaseBytes: ZSeries,
  /** Largest first, by their size in the newest sampled snapshot. */
  tables: z.array(ZTableSeries),
  /** Every UTC day of the range some snapshot covers, oldest first. */
  days: z.array(ZStatsDay),
  byDayAndModel: z.array(ZStatsDayModel),
});
export type TStatsSeriesOutput = z.infer<typeof ZStatsSeriesOutput>;
