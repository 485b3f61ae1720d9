import * as z from 'zod';
import type { JobDefinition } from './define.ts';

/** Why a run cannot be sent as asked; the API answers BAD_REQUEST with it, the CLI exits 64. */
export class JobPayloadError extends Error {
  override name = 'JobPayloadError';
}

/**
 * The data to send for a run asked for by an operator (`pnpm jobs run`) or an admin
 * (`admin.runJob`): their payload with `dryRun: true` added when a dry run is asked for, checked
 * against the job's schema first so that a bad run is refused before anything is queued.
 *
 * What is sent is the data as given, not the parsed result: defaults are filled in by the worker
 * when the run starts, so a run queued before a deploy gets the defaults of the code that runs it.
 */
export function preparePayload(
  job: JobDefinition,
  { payload = {}, dryRun = false }: { payload?: Record<string, unknown>; dryRun?: boolean },
): Record<string, unknown> {
  if (dryRun && !supportsDryRun(job)) throw new JobPayloadError(`job "${job.name}" has no dry run`);
  const data = { ...payload, ...(dryRun ? { dryRun: true } : {}) };
  const parsed = job.payload.safeParse(data);
  if (!parsed.success) {
    throw new JobPayloadError(`invalid payload for job "${job.name}": ${z.prettifyError(parsed.error)}`);
  }
  return data;
}

/** A job understands a dry run when its payload schema keeps `dryRun: true` instead of dropping it. */
export function supportsDryRun(job: JobDefinition): boolean {
  const parsed = job.payload.safeParse({ dryRun: true });
  return parsed.success && (parsed.data as { dryRun?: unknown }).dryRun === true;
}

/** `--payload` as typed on a command line: a JSON object, or a JobPayloadError saying so. */
export function parsePayloadText(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new JobPayloadError('--payload must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}
