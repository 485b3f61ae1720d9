import type { JobDefinition } from '@threadstore/jobs';
import type { EntityManager, MikroORM } from '@threadstore/db';
import type { Logger } from '@threadstore/runtime';
import type * as z from 'zod';

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

export type JobHandler<Payload> = (context: JobContext<Payload>) => Promise<JobResult>;

/** A job as the worker runs it: its definition (from @threadstore/jobs) and the handler that does the work. */
export interface JobContract<Payload extends z.ZodType = z.ZodType> extends JobDefinition<Payload> {
  // Method syntax on purpose: it lets a list of jobs with different payloads be one JobContract[].
  handler(context: JobContext<z.output<Payload>>): Promise<JobResult>;
}

/** Pairs a definition with its handler; the types make the handler take the definition's payload. */
export function handle<Payload extends z.ZodType>(
  definition: JobDefinition<Payload>,
  handler: JobHandler<z.output<Payload>>,
): JobContract<Payload> {
  return { ...definition, handler };
}

/**
 * The worker's registry: every definition with the handler registered under its name, in the
 * definitions' order. A definition without a handler (a job added to @threadstore/jobs but not
 * here) or a handler without a definition stops the worker at load, naming it, rather than
 * leaving a queue that the API can send to and nothing works.
 */
export function withHandlers(definitions: readonly JobDefinition[], handlers: readonly JobContract[]): JobContract[] {
  const byName = new Map<string, JobContract>();
  for (const contract of handlers) {
    if (byName.has(contract.name)) throw new Error(`two handlers are registered for job "${contract.name}"`);
    byName.set(contract.name, contract);
  }
  const jobs = definitions.map((definition) => {
    const contract = byName.get(definition.name);
    if (contract === undefined) throw new Error(`job "${definition.name}" has no handler in the worker`);
    byName.delete(definition.name);
    return { ...definition, handler: contract.handler };
  });
  const orphans = [...byName.keys()];
  if (orphans.length > 0) throw new Error(`handlers without a job definition: ${orphans.join(', ')}`);
  return jobs;
}
