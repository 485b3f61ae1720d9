import { defineJob, type JobSpec } from '@threadstore/jobs';
import type * as z from 'zod';
import { handle, type JobContract, type JobHandler } from '../src/jobs/contract.ts';

/** A definition and its handler in one call, for jobs that exist only in a test. */
export function defineTestJob<Payload extends z.ZodType>(
  spec: JobSpec<Payload> & { handler: JobHandler<z.output<Payload>> },
): JobContract<Payload> {
  const { handler, ...definition } = spec;
  return handle(defineJob(definition), handler);
}
