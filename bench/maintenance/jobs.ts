import type { MikroORM } from '@threadstore/db';
import { createLogger } from '@threadstore/runtime';
import { jobs, type JobContract } from '@threadstore/worker/jobs';

export type JobResult = Awaited<ReturnType<JobContract['handler']>>;

export interface TimedRun {
  seconds: number;
  result: JobResult;
  /** Each progress report (one per committed batch) with when it came, in ms since the start. */
  progress: { atMs: number; details: Record<string, unknown> }[];
}

/** The registered contract of a worker job, or undefined while it is not registered. */
export function jobNamed(name: string): JobContract | undefined {
  return jobs.find((job) => job.name === name);
}

/**
 * Runs a job's real handler in this process with the context the worker's runner gives it (the
 * payload parsed by the contract, a fresh fork, a logger, progress reports) but without pg-boss
 * or a receipt row, so the figure is the handler's own work.
 */
export async function runJob(
  job: JobContract,
  orm: MikroORM,
  payload: Record<string, unknown>,
  {
    signal = new AbortController().signal,
    onProgress,
  }: {
    /** Stops the run between batches, as pg-boss does when a job expires. */
    signal?: AbortSignal;
    /** Awaited by the handler, so it should be quick. */
    onProgress?: (details: Record<string, unknown>) => Promise<void>;
  } = {},
): Promise<TimedRun> {
  const progress: TimedRun['progress'] = [];
  const started = performance.now();
  const result = await job.handler({
    em: orm.em.fork(),
    orm,
    payload: job.payload.parse(payload),
    signal,
    // Warnings (a retention batch skipped on a lock) go to stderr with the progress lines.
    logger: createLogger(`bench-${job.name}`, 'warn', process.stderr),
    reportProgress: async (details) => {
      progress.push({ atMs: performance.now() - started, details });
      await onProgress?.(details);
    },
  });
  return { seconds: (performance.now() - started) / 1000, result, progress };
}
