/**
 * The operators' command line: `pnpm jobs <command>`.
 *
 *   run <job> [--dry-run] [--payload '{"batchSize":100}']   run a job now, here, showing its progress
 *   schedules                                             each job's default, effective and registered schedule
 *   runs [--job <job>] [--limit <n>]                      recent runs with their outcome and receipt
 *   policies | policy set|remove|preview | hold place|lift  retention policies and legal holds (see policies.ts)
 *
 * Exit codes: 0 done, 1 the run failed or was aborted, 64 bad usage, 75 the job is already queued
 * or running, 78 bad configuration.
 */
import { parseArgs } from 'node:util';
import { loadDotEnvFile } from '@threadstore/db';
import { listMaintenanceRuns } from '@threadstore/domain';
import { resolveSchedules } from '@threadstore/jobs';
import { createLogger, loadConfigOrExit, openServiceDatabase, queueConnection } from '@threadstore/runtime';
import { PgBoss } from 'pg-boss';
import { workerEnvSchema } from '../env.ts';
import { jobs } from '../jobs/registry.ts';
import { POLICY_USAGE, runPolicyCommand } from './policies.ts';
import { runJobHere, UsageError } from './run-job.ts';

// Settings from the repository's .env, under those the environment already sets.
loadDotEnvFile();

const EXIT_USAGE = 64;

const USAGE =
  'usage: jobs run <job> [--dry-run] [--payload <json>] | jobs schedules | jobs runs [--job <job>] [--limit <n>]';

/**
 * Strict: an unknown or misspelt flag stops the command before anything connects. Ignoring it
 * would run the job for real when an operator typed `--dryrun` for `--dry-run`.
 */
function parseCommandLine() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        'dry-run': { type: 'boolean', default: false },
        payload: { type: 'string' },
        job: { type: 'string' },
        limit: { type: 'string', default: '20' },
        scope: { type: 'string' },
        target: { type: 'string' },
        user: { type: 'string' },
        project: { type: 'string' },
        'keep-days': { type: 'string' },
        note: { type: 'string' },
        remove: { type: 'boolean' },
        hold: { type: 'boolean' },
        holds: { type: 'boolean' },
      },
      strict: true,
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}\n${POLICY_USAGE}`);
    process.exit(EXIT_USAGE);
  }
}
const { positionals, values } = parseCommandLine();
const [command, ...rest] = positionals;

const config = loadConfigOrExit(workerEnvSchema(jobs));
// Progress and results go to stdout for the operator; logs (warnings and worse) to stderr.
const logger = createLogger('jobs-cli', 'warn', process.stderr);
const orm = await openServiceDatabase(config, 'jobs-cli', logger);
const boss = new PgBoss({
  ...queueConnection(config, 'jobs-cli'),
  schema: config.PGBOSS_SCHEMA,
  supervise: false,
  schedule: false,
});
boss.on('error', (error) => logger.error({ err: error }, 'pg-boss error'));

let exitCode = 0;
try {
  await boss.start();
  switch (command) {
    case 'run': {
      exitCode = await runJobHere({
        boss,
        orm,
        logger,
        jobs,
        name: rest[0],
        dryRun: values['dry-run'] === true,
        payload: values.payload,
        print: (line) => console.log(line),
      });
      break;
    }
    case 'schedules': {
      const effective = new Map(resolveSchedules(jobs, config.JOB_SCHEDULES).map((s) => [s.job, s.cron]));
      const registered = new Map((await boss.getSchedules()).map((s) => [s.name, s.cron]));
      printTable(
        jobs.map((job) => ({
          job: job.name,
          default: job.schedule?.cron ?? '-',
          effective: effective.get(job.name) ?? 'off',
          registered: registered.get(job.name) ?? '(none: no worker has started with it)',
        })),
      );
      break;
    }
    case 'runs': {
      const limit = Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new UsageError('--limit must be 1 to 500');
      const { items } = await listMaintenanceRuns(orm.em.fork(), {
        job: values.job,
        limit,
      });
      printTable(
        items.map((run) => ({
          job: run.job,
          started: run.startedAt,
          finished: run.finishedAt ?? '-',
          outcome: run.outcome + (run.dryRun ? ' (dry run)' : ''),
          rows: run.rowsAffected,
          details: run.error ?? JSON.stringify(run.details).slice(0, 80),
        })),
      );
      break;
    }
    case 'policies':
    case 'policy':
    case 'hold': {
      exitCode = await runPolicyCommand({
        orm,
        boss,
        logger,
        jobs,
        command,
        args: rest,
        values,
        print: (line) => console.log(line),
        printTable,
      });
      break;
    }
    default:
      throw new UsageError(`${USAGE}\njobs: ${jobs.map((job) => job.name).join(', ')}\n${POLICY_USAGE}`);
  }
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(error.message);
  exitCode = EXIT_USAGE;
} finally {
  await boss.stop({ graceful: false, close: true });
  await orm.close();
}
process.exit(exitCode);

/** Aligned columns under a header, plain text so it greps and pipes well. */
function printTable(rows: Record<string, string | number>[]): void {
  if (rows.length === 0) {
    console.log('(none)');
    return;
  }
  const columns = Object.keys(rows[0]!);
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => String(row[column]).length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  console.log(line(columns));
  for (const row of rows) console.log(line(columns.map((column) => String(row[column]))));
}
