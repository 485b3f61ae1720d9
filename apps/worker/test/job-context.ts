import type { MikroORM } from '@threadstore/db';
import { createLogger } from '@threadstore/runtime';
import type * as z from 'zod';
import type { JobContract, JobResult } from '../src/jobs/contract.ts';

export interface DirectRun {
  result: JobResult;
  /** Every `reportProgress` call, in order. */
  progress: Record<string, unknown>[];
}

/**
 * Runs a job's handler in this process with the context the runner would give it (payload parsed
 * by the contract, a fresh fork), without pg-boss or a receipt: for tests of what a handler does.
 */
export async function runHandler<Payload extends z.ZodType>(
  job: JobContract<Payload>,
  orm: MikroORM,
  payload: z.input<Payload>,
  {
    signal = new AbortController().signal,
    onProgress = () => {},
  }: { signal?: AbortSignal; onProgress?: (details: Record<string, unknown>) => void } = {},
): Promise<DirectRun> {
  const progress: Record<string, unknown>[] = [];
  const result = await job.handler({
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
