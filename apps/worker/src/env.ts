import { logEnvSchema, queueEnvSchema, serviceDatabaseEnvSchema } from '@threadstore/runtime';
import * as z from 'zod';
import { cronProblem, SCHEDULE_OFF, type JobDefinition, type ScheduleOverrides } from '@threadstore/jobs';

/**
 * The worker's environment. It depends on the job registry because JOB_SCHEDULES may only name
 * jobs that exist: a typo there would otherwise leave the real job on its default schedule.
 */
export function workerEnvSchema(jobs: readonly Pick<JobDefinition, 'name'>[]) {
  const jobNames = jobs.map((job) => job.name);
  return serviceDatabaseEnvSchema
    .extend(logEnvSchema.shape)
    .extend(queueEnvSchema.shape)
    .extend({
      // The whole budget for a graceful stop: running jobs get most of it (see startWorker).
      SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(30_000),
      // pg-boss refuses polling faster than every 0.5 s.
      WORKER_POLL_INTERVAL_SECONDS: z.coerce.number().min(0.5).default(2),
      // GET /metrics (Prometheus) on this port; 0 picks a free one (logged), off disables it.
      WORKER_METRICS_PORT: z.union([z.literal('off'), z.coerce.number().int().min(0).max(65_535)]).default(9464),
      WORKER_METRICS_HOST: z.string().trim().min(1).default('0.0.0.0'),
      // How often the search indexer looks for newly appended messages (0 turns the loop off and
      // leaves indexing to the once-a-minute search-index job); messages per indexing transaction;
      // loops side by side (each keeps one PostgreSQL backend busy while a bulk import's backlog lasts).
      SEARCH_INDEX_INTERVAL_MS: z.coerce.number().int().min(0).default(1_000),
      SEARCH_INDEX_BATCH_SIZE: z.coerce.number().int().min(1).max(50_000).default(1_000),
      SEARCH_INDEX_LOOPS: z.coerce.number().int().min(1).max(16).default(2),
      JOB_SCHEDULES: z
        .string()
        .transform((text, context) => parseScheduleOverrides(text, jobNames, context.addIssue))
        .default({}),
    });
}

export type WorkerConfig = z.infer<ReturnType<typeof workerEnvSchema>>;

/**
 * `{"retention":"0 3 * * *","vacuum":"off"}`. Every issue is reported on the variable itself
 * (naming the job in its message), so the config error quotes the value that was given.
 */
function parseScheduleOverrides(
  text: string,
  jobNames: readonly string[],
  addIssue: (message: string) => void,
): ScheduleOverrides {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    addIssue('must be a JSON object of cron expressions by job name, e.g. {"retention":"0 3 * * *"}');
    return {};
  }
  for (const [job, cron] of Object.entries(parsed)) {
    if (!jobNames.includes(job)) {
      addIssue(`no job is named "${job}" (jobs: ${jobNames.join(', ') || 'none'})`);
    } else if (typeof cron !== 'string') {
      addIssue(`job "${job}" needs a cron expression or "${SCHEDULE_OFF}"`);
    } else if (cron !== SCHEDULE_OFF) {
      const problem = cronProblem(cron);
      if (problem) addIssue(`job "${job}": ${problem}`);
    }
  }
  return parsed as ScheduleOverrides;
}
