import type { EntityManager, MikroORM } from '@threadstore/db';
import type { Logger } from '@threadstore/runtime';
import type { Queue } from 'pg-boss';
import type * as z from 'zod';
import { cronProblem } from './schedule.ts';

/** What a handler reports back; it becomes the run's receipt and pg-boss's job output. */
export interface JobResult {
  rowsAffected: number;
  details: Record<string, unknown>;
}

export interface JobContext<Payload> {
  /** A fresh fork for this run alone, so no two runs share an identity map. */
  em: EntityManager;
  orm: MikroORM;
  payload: Payload;
  /**
   * Aborted when pg-boss gives up on the run: it outlived `expireInSeconds`, or the worker is
   * shutting down. pg-boss has already failed the job by then and may hand it to another worker,
   * so a handler checks this between batches and returns instead of carrying on beside the retry.
   */
  signal: AbortSignal;
  /** Carries the job's name, the pg-boss job id and the run id on every line. */
  logger: Logger;
  /** Replaces the run's `details` now, so a long run shows how far it got while it works. */
  reportProgress(details: Record<string, unknown>): Promise<void>;
}

/** pg-boss queue options a job may set; the dead-letter queue is always the worker's own. */
export type JobQueueOptions = Omit<Queue, 'name' | 'deadLetter' | 'partition'>;

export interface JobDefinition<Payload extends z.ZodType> {
  /** Kebab-case; also the pg-boss queue name. */
  name: string;
  description: string;
  /** Validated before the handler runs; `{}` when the job was sent without data. */
  payload: Payload;
  queue?: JobQueueOptions;
  /** Registered in UTC unless JOB_SCHEDULES overrides or turns it off. */
  schedule?: { cron: string };
  handler(context: JobContext<z.output<Payload>>): Promise<JobResult>;
}

export interface JobContract<Payload extends z.ZodType = z.ZodType> extends JobDefinition<Payload> {
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

/** Declares a job: its name, payload, queue options, default schedule and handler, checked once at load. */
export function defineJob<Payload extends z.ZodType>(definition: JobDefinition<Payload>): JobContract<Payload> {
  if (!JOB_NAME.test(definition.name)) {
    throw new Error(`job name "${definition.name}" must be kebab-case (e.g. "retention-sweep")`);
  }
  const problem = definition.schedule && cronProblem(definition.schedule.cron);
  if (problem) throw new Error(`job "${definition.name}": default schedule ${problem}`);
  return { ...definition, queue: { ...DEFAULT_QUEUE_OPTIONS, ...definition.queue } };
}

/** Where a job lands once its retries are spent; kept for inspection and `boss.redrive()`, never worked. */
export function deadLetterQueueName(jobName: string): string {
  return `${jobName}.dead`;
}
