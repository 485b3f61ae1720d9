import { PgBoss } from 'pg-boss';

/**
 * Every schedule runs in UTC. Maintenance windows written in a local zone would run twice, or
 * not at all, on the nights daylight saving time starts and ends.
 */
export const SCHEDULE_TZ = 'UTC';

/** The JOB_SCHEDULES value that turns a job's schedule off. */
export const SCHEDULE_OFF = 'off';

/** Cron expressions by job name, from JOB_SCHEDULES: they replace a job's default, `off` removes it. */
export type ScheduleOverrides = Readonly<Record<string, string>>;

/** A job the worker has pg-boss send on a recurring schedule. */
export interface ScheduledJob {
  job: string;
  cron: string;
  tz: typeof SCHEDULE_TZ;
}

/**
 * Never started, so it never connects: previewSchedule() parses in process. Validating with it
 * means a cron expression accepted here is exactly one `schedule()` will accept at start.
 */
const offlineBoss = new PgBoss({ db: { executeSql: () => Promise.reject(new Error('never connected')) } });

/**
 * Why an expression is not a usable schedule, or undefined when it is.
 *
 * Five fields only: pg-boss checks schedules every 30 seconds and sends at most one job per minute,
 * so the seconds field it also parses would promise a precision no schedule gets, and a shorter
 * expression (which its parser pads out to "every minute") is nearly always a typo.
 */
export function cronProblem(expression: string): string | undefined {
  if (expression.trim().split(/\s+/).length !== 5) {
    return `"${expression}" is not a five-field cron expression (minute hour day-of-month month day-of-week)`;
  }
  try {
    offlineBoss.previewSchedule(expression, { tz: SCHEDULE_TZ, count: 1 });
    return undefined;
  } catch (error) {
    return `"${expression}" is not a valid cron expression: ${(error as Error).message}`;
  }
}

/** The schedules to register: each job's default unless JOB_SCHEDULES replaces it or turns it off. */
export function resolveSchedules(
  jobs: readonly { name: string; schedule?: { cron: string } | undefined }[],
  overrides: ScheduleOverrides,
): ScheduledJob[] {
  return jobs.flatMap((job) => {
    const cron = overrides[job.name] ?? job.schedule?.cron;
    return cron === undefined || cron === SCHEDULE_OFF ? [] : [{ job: job.name, cron, tz: SCHEDULE_TZ }];
  });
}
