import { MaintenanceRunSchema, type MikroORM } from '@threadstore/db';
import type { Logger } from '@threadstore/runtime';
import { JobPayloadError, parsePayloadText, preparePayload } from '@threadstore/jobs';
import type { Job, PgBoss } from 'pg-boss';
import type { JobContract } from '../jobs/contract.ts';
import { createJobRunner } from '../jobs/runner.ts';
import { ensureQueues } from '../worker.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

const EXIT_FAILED = 1;
const EXIT_BUSY = 75;
const PROGRESS_POLL_MS = 500;

/**
 * Runs one job now in this process, but through its pg-boss queue: the run is sent, then fetched
 * back and worked here. So the queue's policy still holds (a job already queued or running is
 * refused, never run twice at once), the run keeps its heartbeat, and it leaves the same receipt
 * a worker's run does. If a worker happens to fetch it first, this follows that run instead.
 */
export async function runJobHere({
  boss,
  orm,
  logger,
  jobs,
  name,
  dryRun,
  payload,
  print,
}: {
  boss: PgBoss;
  orm: MikroORM;
  logger: Logger;
  jobs: readonly JobContract[];
  name: string | undefined;
  dryRun: boolean;
  payload: string | undefined;
  print: (line: string) => void;
}): Promise<number> {
  const contract = jobs.find((job) => job.name === name);
  if (contract === undefined) {
    throw new UsageError(`unknown job "${name ?? ''}"; jobs: ${jobs.map((job) => job.name).join(', ')}`);
  }
  let data: Record<string, unknown>;
  try {
    data = preparePayload(contract, { payload: parsePayloadText(payload), dryRun });
  } catch (error) {
    if (error instanceof JobPayloadError) throw new UsageError(error.message);
    throw error;
  }

  // The worker creates its queues when it starts; doing the same here lets an operator run a job
  // on a database no worker has started on yet (and applies the contract's queue options).
  await ensureQueues(boss, contract);
  const id = await boss.send(contract.name, data);
  if (id === null) {
    print(`${contract.name} is already queued or running; it runs one at a time`);
    return EXIT_BUSY;
  }
  print(`${contract.name}: queued as ${id}${dryRun ? ' (dry run)' : ''}`);

  const following = followReceipt(orm, id, print);
  const [fetched] = await boss.fetch<unknown>(contract.name, { batchSize: 1 });
  if (fetched?.id === id) {
    await workHere(boss, orm, logger, contract, fetched);
  } else if (fetched !== undefined) {
    // Another job of this queue was due first; give it back untouched.
    await boss.fail(contract.name, fetched.id, { message: 'fetched by the jobs CLI by mistake; retrying' });
    print('a worker picked the run up; following it');
  } else {
    print('a worker picked the run up; following it');
  }
  const outcome = await following;
  return outcome === 'succeeded' ? 0 : EXIT_FAILED;
}

async function workHere(boss: PgBoss, orm: MikroORM, logger: Logger, contract: JobContract, fetched: Job<unknown>) {
  const abort = new AbortController();
  const onInterrupt = () => abort.abort(new Error('interrupted by the operator'));
  process.once('SIGINT', onInterrupt);
  // Beyond its expiry pg-boss fails the job and may retry it elsewhere; stop before that.
  const expiry = setTimeout(() => abort.abort(new Error('expired')), fetched.expireInSeconds * 1000);
  // Without heartbeats pg-boss would take the run for dead and hand it to a worker mid-run.
  const heartbeat =
    fetched.heartbeatSeconds === null
      ? undefined
      : setInterval(
          () => void boss.touch(contract.name, fetched.id).catch(() => {}),
          (fetched.heartbeatSeconds * 1000) / 2,
        );
  try {
    const result = await createJobRunner({ orm, logger }).run(contract, { ...fetched, signal: abort.signal });
    await boss.complete(contract.name, fetched.id, result);
  } catch (error) {
    await boss.fail(contract.name, fetched.id, { message: error instanceof Error ? error.message : String(error) });
  } finally {
    clearTimeout(expiry);
    clearInterval(heartbeat);
    process.off('SIGINT', onInterrupt);
  }
}

/** Prints the run's receipt each time it changes until the run ends; resolves to its outcome. */
async function followReceipt(orm: MikroORM, queueJobId: string, print: (line: string) => void): Promise<string> {
  let last = '';
  for (;;) {
    const run = await orm.em.fork().findOne(MaintenanceRunSchema, { queueJobId }, { orderBy: { startedAt: 'desc' } });
    if (run !== null) {
      const shown = JSON.stringify(run.details);
      if (shown !== last && shown !== '{}') print(`  ${run.outcome === 'running' ? 'progress' : 'result'}: ${shown}`);
      last = shown;
      if (run.outcome !== 'running') {
        print(`${run.job}: ${run.outcome}, ${run.rowsAffected} rows${run.error ? ` (${run.error})` : ''}`);
        return run.outcome;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, PROGRESS_POLL_MS));
  }
}
