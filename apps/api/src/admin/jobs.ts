import type { TJobInfo, TRunJobInput } from '@threadstore/contract';
import type { EntityManager } from '@threadstore/db';
import { DomainError, lastRunsByJob, notFound, recordAudit, type Actor } from '@threadstore/domain';
import { JobPayloadError, preparePayload, supportsDryRun } from '@threadstore/jobs';
import type { JobQueue } from './job-queue.ts';

/** Every job of the registry with its registered schedule and its latest run. */
export async function listJobs(em: EntityManager, queue: JobQueue): Promise<TJobInfo[]> {
  const [schedules, lastRuns] = await Promise.all([queue.schedules(), lastRunsByJob(em)]);
  return queue.jobs.map((job) => {
    const schedule = schedules.get(job.name);
    const lastRun = lastRuns.get(job.name);
    return {
      name: job.name,
      description: job.description,
      defaultCron: job.schedule?.cron ?? null,
      schedule: schedule === undefined ? null : { cron: schedule.cron, timezone: schedule.timezone },
      supportsDryRun: supportsDryRun(job),
      lastRun:
        lastRun === undefined
          ? null
          : { id: lastRun.id, outcome: lastRun.outcome, startedAt: lastRun.startedAt, finishedAt: lastRun.finishedAt },
    };
  });
}

/** Queues a run now, checked against the job's own payload schema first; audited. */
export async function runJobNow(
  em: EntityManager,
  actor: Actor,
  queue: JobQueue,
  input: TRunJobInput,
): Promise<{ job: string; queueJobId: string }> {
  const job = queue.jobs.find((candidate) => candidate.name === input.job);
  if (job === undefined) throw notFound(`job "${input.job}"`);
  let payload: Record<string, unknown>;
  try {
    payload = preparePayload(job, { payload: input.payload, dryRun: input.dryRun === true });
  } catch (error) {
    if (error instanceof JobPayloadError) throw new DomainError('BAD_REQUEST', error.message);
    throw error;
  }
  let queueJobId: string | null;
  try {
    queueJobId = await queue.send(job, payload);
  } catch (error) {
    // pg-boss refuses to send to a queue that does not exist yet: no worker has started since
    // this job was added.
    if (error instanceof Error && /does not exist/i.test(error.message)) {
      throw new DomainError('PRECONDITION_FAILED', `no worker has registered job "${job.name}" yet; start one`);
    }
    throw error;
  }
  if (queueJobId === null) {
    throw new DomainError('CONFLICT', `job "${job.name}" is already queued or running; it runs one at a time`);
  }
  recordAudit(em, actor, {
    action: 'admin.runJob',
    subjectType: 'job',
    subjectId: job.name,
    details: { queueJobId, dryRun: input.dryRun === true },
  });
  await em.flush();
  return { job: job.name, queueJobId };
}
