import type { TJobInfo, TMaintenanceRun, TStatsSeriesOutput } from '@threadstore/client';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { useTRPC, useTRPCClient } from '../../app/api.tsx';
import { useAuth } from '../../app/auth.tsx';
import { ErrorNote, errorCode } from '../common/errors.tsx';
import { formatBytes, formatCost, formatCount, formatTimestamp } from '../common/format.ts';
import { Segmented } from '../common/Segmented.tsx';
import { SignInRequired } from '../common/SignInRequired.tsx';
import '../common/pages.css';
import { databaseChart, dayChart, modelChart, tableChart } from './series.ts';
import { TimeChart, type TimeChartProps } from './TimeChart.tsx';

/**
 * Operations, for administrators: the worker's jobs and schedules, running one now (a dry run
 * first where the job has one), recent runs with their receipts, and charts of the stats job's
 * snapshots. Who may see it is the API's decision (admin.* refuse everyone else); the page says so.
 */
export default function OperationsPage() {
  const { identity } = useAuth();
  if (identity.kind !== 'user') return <SignInRequired title="Operations" what="see operations (administrators)" />;
  return <Operations />;
}

function Operations() {
  const trpc = useTRPC();
  const jobs = useQuery(trpc.admin.listJobs.queryOptions());
  if (jobs.isPending) return <p role="status">Loading…</p>;
  if (errorCode(jobs.error) === 'FORBIDDEN') {
    return (
      <section aria-labelledby="operations-heading">
        <h1 id="operations-heading">Operations</h1>
        <p role="alert" className="refusal">
          Operations are for administrators only, and your account is not one. An operator can make it one with{' '}
          <code>pnpm admin grant &lt;your e-mail or username&gt;</code>.
        </p>
      </section>
    );
  }
  return (
    <div className="operations">
      <h1>Operations</h1>
      {jobs.isError ? <ErrorNote error={jobs.error} action="load the jobs" /> : <Jobs jobs={jobs.data.jobs} />}
      <RecentRuns />
      <StatsCharts />
    </div>
  );
}

function Jobs({ jobs }: { jobs: TJobInfo[] }) {
  return (
    <section aria-labelledby="jobs-heading" className="card">
      <h2 id="jobs-heading">Jobs and schedules</h2>
      <p className="muted">
        A job with a dry run offers its real run only once its newest run is a successful dry run, whose receipt says
        what the real one would do.
      </p>
      <table>
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">Schedule (UTC unless said)</th>
            <th scope="col">Last run</th>
            <th scope="col">Run now</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((job) => (
            <JobRow key={job.name} job={job} />
          ))}
        </tbody>
      </table>
    </section>
  );
}

/**
 * A job's row. For a job with a dry run, only the dry run is offered until the job's newest run
 * is a successful dry run; then the real run is offered beside that dry run's receipt.
 */
function JobRow({ job }: { job: TJobInfo }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const newest = useQuery({
    ...trpc.admin.listRuns.queryOptions({ job: job.name, limit: 1 }),
    enabled: job.supportsDryRun,
  });
  const run = useMutation(
    trpc.admin.runJob.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.admin.pathKey() }),
    }),
  );
  const latest: TMaintenanceRun | undefined = newest.data?.items[0];
  const dryRunDone = latest !== undefined && latest.dryRun && latest.outcome === 'succeeded';
  const schedule = job.schedule
    ? `${job.schedule.cron}${job.schedule.timezone === 'UTC' ? '' : ` (${job.schedule.timezone})`}`
    : 'on demand only';
  return (
    <tr>
      <th scope="row">
        <code>{job.name}</code>
        <p className="muted small">{job.description}</p>
      </th>
      <td>
        {schedule}
        {job.defaultCron !== null && job.schedule?.cron !== job.defaultCron && (
          <p className="muted small">default {job.defaultCron}</p>
        )}
      </td>
      <td>
        {job.lastRun ? (
          <>
            <span className={job.lastRun.outcome === 'failed' ? 'error' : undefined}>{job.lastRun.outcome}</span>
            <p className="muted small">{formatTimestamp(job.lastRun.startedAt)}</p>
          </>
        ) : (
          <span className="muted">never</span>
        )}
      </td>
      <td>
        <div className="actions">
          {job.supportsDryRun && (
            <button
              type="button"
              className={dryRunDone ? 'secondary' : undefined}
              disabled={run.isPending}
              onClick={() => run.mutate({ job: job.name, dryRun: true })}
              aria-label={`Dry run ${job.name}`}
            >
              Dry run
            </button>
          )}
          {(!job.supportsDryRun || dryRunDone) && (
            <button
              type="button"
              disabled={run.isPending}
              onClick={() => run.mutate({ job: job.name })}
              aria-label={`Run ${job.name} now`}
            >
              {job.supportsDryRun ? 'Run for real' : 'Run now'}
            </button>
          )}
        </div>
        {job.supportsDryRun && dryRunDone && latest && (
          <p className="small">
            Dry run of {formatTimestamp(latest.startedAt)} would affect {latest.rowsAffected} rows.
          </p>
        )}
        {run.isSuccess && (
          <p role="status" className="ok small">
            Queued; a worker picks it up.
          </p>
        )}
        <ErrorNote error={run.error} action={`run ${job.name}`} />
      </td>
    </tr>
  );
}

const RUNS_PAGE = 15;

function RecentRuns() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const client = useTRPCClient();
  // Paged by hand: tRPC's infiniteQueryOptions adds a `direction` the strict input refuses.
  const runs = useInfiniteQuery({
    queryKey: trpc.admin.listRuns.infiniteQueryKey({ limit: RUNS_PAGE }),
    queryFn: ({ pageParam }) => client.admin.listRuns.query({ limit: RUNS_PAGE, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.nextCursor ?? undefined,
    // Runs start (queued from here or by schedule) and finish on the worker's clock.
    refetchInterval: 3_000,
  });
  const items = useMemo(() => runs.data?.pages.flatMap((page) => page.items) ?? [], [runs.data]);
  // A run that finished changes the jobs' last runs, what is offered after a dry run, and the
  // statistics (a stats run adds a snapshot): refresh those once per newly finished run.
  const finished = items
    .filter((run) => run.outcome !== 'running')
    .map((run) => run.id)
    .join(' ');
  useEffect(() => {
    if (finished === '') return;
    void queryClient.invalidateQueries({ queryKey: trpc.admin.listJobs.pathKey() });
    void queryClient.invalidateQueries({ queryKey: trpc.admin.statsSeries.pathKey() });
    // The jobs' own newest runs (plain queries; the infinite listing refreshes itself).
    void queryClient.invalidateQueries(trpc.admin.listRuns.queryFilter());
  }, [finished, queryClient, trpc]);
  return (
    <section aria-labelledby="runs-heading" className="card">
      <h2 id="runs-heading">Recent runs</h2>
      {runs.isPending && <p role="status">Loading runs…</p>}
      <ErrorNote error={runs.error} action="load the runs" />
      {runs.data && items.length === 0 && <p>No job has run yet.</p>}
      {items.length > 0 && (
        <table aria-label="Recent runs">
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Outcome</th>
              <th scope="col">Started</th>
              <th scope="col">Took</th>
              <th scope="col">Rows</th>
              <th scope="col">Receipt</th>
            </tr>
          </thead>
          <tbody>
            {items.map((run) => (
              <tr key={run.id}>
                <td>
                  <code>{run.job}</code>
                  {run.dryRun && <span className="tag">dry run</span>}
                </td>
                <td className={run.outcome === 'failed' ? 'error' : undefined}>
                  {run.outcome}
                  {run.error && <p className="small">{run.error}</p>}
                </td>
                <td>{formatTimestamp(run.startedAt)}</td>
                <td>{run.finishedAt ? duration(run.startedAt, run.finishedAt) : '…'}</td>
                <td>{run.rowsAffected}</td>
                <td>
                  <details>
                    <summary>Receipt</summary>
                    <pre className="receipt">{JSON.stringify(run.details, null, 2)}</pre>
                  </details>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {runs.hasNextPage && (
        <button
          type="button"
          className="secondary"
          disabled={runs.isFetchingNextPage}
          onClick={() => runs.fetchNextPage()}
        >
          {runs.isFetchingNextPage ? 'Loading…' : 'Older runs'}
        </button>
      )}
    </section>
  );
}

function duration(startedAt: string, finishedAt: string): string {
  const ms = Date.parse(finishedAt) - Date.parse(startedAt);
  return ms < 1_000 ? `${ms} ms` : ms < 120_000 ? `${(ms / 1_000).toFixed(1)} s` : `${Math.round(ms / 60_000)} min`;
}

/** Ranges in days. */
const RANGES = [
  { value: 1, label: '24 hours' },
  { value: 7, label: '7 days' },
  { value: 30, label: '30 days' },
  { value: 90, label: '90 days' },
];

/** The charts of one answer of admin.statsSeries: sizes over the range asked for, then per day. */
function statsCharts(series: TStatsSeriesOutput): TimeChartProps[] {
  const range: [number, number] = [Date.parse(series.since) / 1000, Date.parse(series.until) / 1000];
  const overTime = { format: formatBytes, xRange: range };
  const perDay = { daily: true };
  return [
    { title: 'Database size', description: 'on disk, over time.', data: databaseChart(series), ...overTime },
    {
      title: 'Table sizes',
      description: 'the six largest tables, without indexes.',
      data: tableChart(series, 'tableBytes'),
      ...overTime,
    },
    {
      title: 'Index sizes',
      description: 'all indexes of the six tables with the largest.',
      data: tableChart(series, 'indexBytes'),
      ...overTime,
    },
    {
      title: 'Dead tuples',
      description: 'rows awaiting vacuum, six tables with the most.',
      data: tableChart(series, 'deadTuples'),
      ...overTime,
      format: formatCount,
    },
    {
      title: 'Messages per day',
      description: 'all sessions, per UTC day.',
      data: dayChart(series, 'messages'),
      format: formatCount,
      kind: 'bars',
      ...perDay,
    },
    {
      title: 'Cost per day',
      description: 'model cost in dollars, per UTC day.',
      data: dayChart(series, 'cost'),
      format: formatCost,
      kind: 'bars',
      ...perDay,
    },
    {
      title: 'Messages per model',
      description: 'per UTC day and model.',
      data: modelChart(series, 'messages'),
      format: formatCount,
      ...perDay,
    },
    {
      title: 'Cost per model',
      description: 'dollars per UTC day and model.',
      data: modelChart(series, 'cost'),
      format: formatCost,
      ...perDay,
    },
  ];
}

function StatsCharts() {
  const trpc = useTRPC();
  const [days, setDays] = useState<number>(7);
  // The range's start, fixed per choice so the query key stays the same between renders.
  const since = useMemo(() => new Date(Date.now() - days * 86_400_000).toISOString(), [days]);
  const series = useQuery(trpc.admin.statsSeries.queryOptions({ since, maxPoints: 200 }, { refetchInterval: 60_000 }));
  const charts = useMemo(() => (series.data === undefined ? null : statsCharts(series.data)), [series.data]);
  return (
    <section aria-labelledby="stats-heading" className="card">
      <div className="toolbar">
        <h2 id="stats-heading">Statistics</h2>
        <Segmented label="Range" options={RANGES} value={days} onChange={setDays} />
      </div>
      {series.isPending && <p role="status">Loading statistics…</p>}
      <ErrorNote error={series.error} action="load the statistics" />
      {series.data && (
        <p className="muted">
          {series.data.snapshotsInRange} {series.data.snapshotsInRange === 1 ? 'snapshot' : 'snapshots'} of the stats
          job in this range
          {series.data.takenAt.length < series.data.snapshotsInRange && `, ${series.data.takenAt.length} of them drawn`}
          .{series.data.snapshotsInRange === 0 && ' Run the stats job above to take one.'}
        </p>
      )}
      {charts && (
        <div className="chart-grid">
          {charts.map((chart) => (
            <TimeChart key={chart.title} {...chart} />
          ))}
        </div>
      )}
    </section>
  );
}
