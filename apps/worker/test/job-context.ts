import type { MikroORM } from '@threadstore/db';
import { createLogger } from '@threadstore/runtime';
import type * as z from 'zod';
import type { JobDefinition } from '@threadstore/jobs';
import type { JobResult } from '../src/jobs/contract.ts';
import { jobs } from '../src/jobs/registry.ts';

export interface DirectRun {
  result: JobResult;
  /** Every `reportProgress` call, in order. */
  progress: Record<string, unknown>[];
}

/**
 * Runs the handler the worker registered for a job in this process, with the context the runner
 * would give it (payload parsed by the definition, a fresh fork), without pg-boss or a receipt:
 * for tests of what a handler does.
 */
export async function runHandler<Payload extends z.ZodType>(
  job: JobDefinition<Payload>,
  orm: MikroORM,
  payload: z.input<Payload>,
  {
    signal = new AbortController().signal,
    onProgress = () => {},
  }: { signal?: AbortSignal; onProgress?: (details: Record<string, unknown>) => void } = {},
): Promise<DirectRun> {
  const progress: Record<string, unknown>[] = [];
  const registered = jobs.find((candidate) => candidate.name === job.name);
  if (registered === undefined) throw new Error(`the worker registers no handler for job "${job.name}"`);
  const result = await registered.handler({
    em: orm.em.fork(),
    orm,
    payload: job.payload.parse(payload),
    signal,
    logger: createLogger(`test-${job.name}`, 'silent'),
    reportProgress: async (details) => {
      progress.push(details);
      onProgress(details);
    },
  });
  return { result, progress };
}
