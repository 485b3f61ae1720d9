import { MaintenanceRunSchema, type MaintenanceOutcome, type MikroORM } from '@threadstore/db';
import type { Logger } from '@threadstore/runtime';
import type { Job } from 'pg-boss';
import * as z from 'zod';
import { observeRun, type WorkerMetrics } from '../metrics.ts';
import type { JobContract, JobResult } from './contract.ts';

/** Checked before it is written: the receipt's CHECK constraints would otherwise lose the whole row. */
const jobResultSchema = z.object({
  rowsAffected: z.number().int().min(0),
  details: z.record(z.string(), z.unknown()),
});

class PayloadError extends Error {
  override name = 'PayloadError';
  constructor(job: string, error: z.ZodError) {
    super(`invalid payload for job "${job}": ${z.prettifyError(error)}`);
  }
}

export interface JobRunner {
  /** Runs one pg-boss job through its contract's handler, recording the run in `maintenance_runs`. */
  run(contract: JobContract, job: Job<unknown>): Promise<JobResult>;
  /**
   * Stops pg-boss with `stopQueue`, then waits for every run to record its outcome. pg-boss stops
   * waiting for a handler once it aborts the job's signal, so a run can still be finishing its
   * receipt after `boss.stop()` returns; closing the ORM then would leave its row `running`.
   */
  shutDown(stopQueue: () => Promise<void>): Promise<void>;
}

export function createJobRunner({
  orm,
  logger,
  metrics,
}: {
  orm: MikroORM;
  logger: Logger;
  /** Where each run's outcome, duration and rows are counted; none in the CLI. */
  metrics?: WorkerMetrics;
}): JobRunner {
  const inFlight = new Set<Promise<unknown>>();
  const shutdown = { started: false };
  return {
    run(contract, job) {
      const run = runJob(contract, job, { orm, logger, shutdown, metrics });
      inFlight.add(run);
      const forget = () => inFlight.delete(run);
      run.then(forget, forget);
      return run;
    },
    async shutDown(stopQueue) {
      shutdown.started = true;
      await stopQueue();
      await Promise.allSettled([...inFlight]);
    },
  };
}

interface RunContext {
  orm: MikroORM;
  logger: Logger;
  /** Set before pg-boss is stopped, so an abort from then on is read as the shutdown's. */
  shutdown: { readonly started: boolean };
  metrics: WorkerMetrics | undefined;
}

/**
 * The receipt is written first (outcome `running`), so no handler runs without one, and its last
 * write never changes the job's outcome: a receipt that cannot be finished is logged, and the job
 * still completes, fails or retries as its handler decided.
 */
async function runJob(
  contract: JobContract,
  job: Job<unknown>,
  { orm, logger, shutdown, metrics }: RunContext,
): Promise<JobResult> {
  const receipts = orm.em.fork();
  const payload = contract.payload.safeParse(job.data ?? {});
  const startedAt = new Date();
  const runId = await receipts.insert(MaintenanceRunSchema, {
    job: contract.name,
    queueJobId: job.id,
    dryRun: payload.success && isDryRun(payload.data),
    startedAt,
  });
  const log = logger.child({ job: contract.name, jobId: job.id, runId, attempt: job.retryCount });
  log.info('job run started');

  // Receipt writes go one at a time, so a progress report the handler did not await cannot land
  // after the final write and put a finished run's details back to an earlier state.
  let receiptWrites = Promise.resolve();
  let finished = false;
  const writeReceipt = (fields: Partial<ReceiptFields>, onError: (error: unknown) => void): Promise<void> =>
    (receiptWrites = receiptWrites
      .then(async () => {
        await receipts.nativeUpdate(MaintenanceRunSchema, { id: runId }, fields);
      })
      .catch(onError));

  let result: JobResult | undefined;
  let failure: unknown;
  try {
    if (!payload.success) throw new PayloadError(contract.name, payload.error);
    result = jobResultSchema.parse(
      await contract.handler({
        em: orm.em.fork(),
        orm,
        payload: payload.data,
        signal: job.signal,
        logger: log,
        // Progress is for watching a run, so a failed write is logged rather than failing the job.
        reportProgress: (details) =>
          finished
            ? Promise.resolve()
            : writeReceipt({ details }, (error) => log.warn({ err: error }, 'could not record progress')),
      }),
    );
  } catch (error) {
    failure = error;
  }
  finished = true;

  const elapsedMs = Date.now() - startedAt.getTime();
  const outcome: MaintenanceOutcome = job.signal.aborted ? 'aborted' : failure === undefined ? 'succeeded' : 'failed';
  const error =
    outcome === 'aborted' ? abortReason(job, shutdown.started) : failure === undefined ? null : messageOf(failure);
  await writeReceipt(
    {
      outcome,
      // The wall clock can step back (NTP); finished_at before started_at would violate a CHECK.
      finishedAt: new Date(startedAt.getTime() + Math.max(elapsedMs, 0)),
      error,
      ...(result ? { rowsAffected: result.rowsAffected, details: result.details } : {}),
    },
    (writeError) => log.error({ err: writeError, outcome }, 'could not record the outcome of a job run'),
  );

  const summary = { outcome, elapsedMs, rowsAffected: result?.rowsAffected, error };
  observeRun(metrics, { job: contract.name, outcome, elapsedMs, rowsAffected: result?.rowsAffected });
  if (outcome === 'succeeded') log.info(summary, 'job run finished');
  else if (outcome === 'aborted') log.warn(summary, 'job run finished');
  else log.error({ ...summary, err: failure }, 'job run finished');

  if (outcome === 'succeeded') return result!;
  throw failure ?? new Error(`job run aborted: ${error}`);
}

interface ReceiptFields {
  outcome: MaintenanceOutcome;
  finishedAt: Date;
  rowsAffected: number;
  details: Record<string, unknown>;
  error: string | null;
}

/** A payload's `dryRun: true` is recorded on the receipt, so a report tells rehearsals from real runs. */
function isDryRun(payload: unknown): boolean {
  return typeof payload === 'object' && payload !== null && (payload as { dryRun?: unknown }).dryRun === true;
}

/**
 * pg-boss aborts a job's signal without saying why when the job expires or the worker stops (a
 * bare AbortError), so those two are told apart by whether a shutdown has begun. A lost heartbeat
 * claim is the one abort that carries an error of its own.
 */
function abortReason(job: Job<unknown>, shuttingDown: boolean): string {
  const reason: unknown = job.signal.reason;
  if (reason instanceof Error && reason.name !== 'AbortError') return reason.message;
  if (shuttingDown) return 'the worker shut down while it was running';
  return `it ran longer than expireInSeconds (${job.expireInSeconds}s)`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
