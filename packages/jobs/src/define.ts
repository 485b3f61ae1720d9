import type { Queue } from 'pg-boss';
import type * as z from 'zod';
import { cronProblem } from './schedule.ts';

/** pg-boss queue options a job may set; the dead-letter queue is always the worker's own. */
export type JobQueueOptions = Omit<Queue, 'name' | 'deadLetter' | 'partition'>;

/** What a job is, as both apps see it: everything but the code that runs it (the worker's handler). */
export interface JobSpec<Payload extends z.ZodType> {
  /** Kebab-case; also the pg-boss queue name. */
  name: string;
  description: string;
  /** Validated before the handler runs (and before the API or the CLI sends); `{}` when sent without data. */
  payload: Payload;
  queue?: JobQueueOptions;
  /** Registered in UTC unless JOB_SCHEDULES overrides or turns it off. */
  schedule?: { cron: string };
}

export interface JobDefinition<Payload extends z.ZodType = z.ZodType> extends JobSpec<Payload> {
  queue: JobQueueOptions & { policy: NonNullable<Queue['policy']> };
}

/**
 * `exclusive` allows one job of the queue to be queued, retrying or running at a time, so a job
 * never runs beside itself, also across worker instances. `singleton` gives the same "one running"
 * guarantee but lets sends queue up behind a long run, which then run back to back; `exclusive`
 * drops the send instead (a cron tick that finds a run in progress is skipped), which is what a
 * periodic sweep wants. A run that ignores its abort signal after expiring is the one way two can
 * still overlap: pg-boss no longer counts it once it has failed the job.
 */
const DEFAULT_QUEUE_OPTIONS = { policy: 'exclusive' } as const;

/** Kebab-case keeps names clear of pg-boss's name rules and of the `.dead` suffix. */
const JOB_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** Declares a job: its name, payload, queue options and default schedule, checked once at load. */
export function defineJob<Payload extends z.ZodType>(spec: JobSpec<Payload>): JobDefinition<Payload> {
  if (!JOB_NAME.test(spec.name)) {
    throw new Error(`job name "${spec.name}" must be kebab-case (e.g. "retention-sweep")`);
  }
  const problem = spec.schedule && cronProblem(spec.schedule.cron);
  if (problem) throw new Error(`job "${spec.name}": default schedule ${problem}`);
  return { ...spec, queue: { ...DEFAULT_QUEUE_OPTIONS, ...spec.queue } };
}

/** Where a job lands once its retries are spent; kept for inspection and `boss.redrive()`, never worked. */
export function deadLetterQueueName(jobName: string): string {
  return `${jobName}.dead`;
}
