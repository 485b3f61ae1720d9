import { DomainError } from '@threadstore/domain';
import type { JobQueue } from '../../admin/job-queue.ts';
import type { Context } from '../../trpc/context.ts';

/** The context's job queue, or a clear refusal on a server started without one. */
export function jobQueueOf(ctx: Pick<Context, 'jobQueue'>): JobQueue {
  if (ctx.jobQueue === null) throw new DomainError('PRECONDITION_FAILED', 'this server has no job queue configured');
  return ctx.jobQueue;
}
