import { SESSION_STATUSES, type TSession, type TSessionPage, type TSessionStatus } from '@threadstore/client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useDeferredValue, useEffect, useState } from 'react';
import { useTRPC } from '../../app/api.tsx';

const RUN_PAGE = 100;

/** How long a run took, or has been running: 1 h 02 min, 3 min 05 s, 12 s. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  if (m > 0) return `${m} min ${String(s).padStart(2, '0')} s`;
  return `${s} s`;
}

function durationOf(run: TSession, now: number): string {
  if (run.startedAt === null) return '—';
  const end = run.finishedAt === null ? now : Date.parse(run.finishedAt);
  return formatDuration(end - Date.parse(run.startedAt));
}

/**
 * Agent runs: every session with its run status, phase, round, cost and duration, live from the
 * change feed (sessions.watchList), with a kill button for running ones and the synthesis and
 * recommendation of finished ones.
 */
export default function RunsPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [statuses, setStatuses] = useState<TSessionStatus[]>([]);
  const [search, setSearch] = useState('');
  const titleContains = useDeferredValue(search.trim());
  const input = {
    limit: RUN_PAGE,
    ...(statuses.length === 0 ? {} : { status: statuses }),
    ...(titleContains === '' ? {} : { titleContains }),
  };
  const runs = useQuery(trpc.sessions.list.queryOptions(input));
  const listKey = trpc.sessions.list.queryKey(input);

  // A run that changes is updated in place; one that now enters or leaves the filter reloads it.
  // Each time the feed (re)connects the list reloads too: a run created between the first load and
  // the moment the server started following was announced to nobody here.
  useSubscription(
    trpc.sessions.watchList.subscriptionOptions(
      {},
      {
        onStarted: () => void queryClient.invalidateQueries({ queryKey: trpc.sessions.list.queryKey() }),
        onData: ({ data: { session } }) => {
          const page = queryClient.getQueryData<TSessionPage>(listKey);
          const matches = statuses.length === 0 || statuses.includes(session.status);
          if (page !== undefined && matches && page.items.some((run) => run.id === session.id)) {
            queryClient.setQueryData<TSessionPage>(listKey, {
              ...page,
              items: page.items.map((run) => (run.id === session.id ? session : run)),
            });
          } else {
            void queryClient.invalidateQueries({ queryKey: trpc.sessions.list.queryKey() });
          }
        },
      },
    ),
  );

  // Running durations tick.
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, []);

  const kill = useMutation(trpc.sessions.kill.mutationOptions());
  const toggle = (status: TSessionStatus) =>
    setStatuses((current) => (current.includes(status) ? current.filter((s) => s !== status) : [...current, status]));

  return (
    <section aria-labelledby="runs-title">
      <h1 id="runs-title">Runs</h1>
      <div className="runs-filters">
        <fieldset>
          <legend>Status</legend>
          {SESSION_STATUSES.map((status) => (
            <label key={status} className="inline-label checkbox">
              <input type="checkbox" checked={statuses.includes(status)} onChange={() => toggle(status)} /> {status}
            </label>
          ))}
        </fieldset>
        <div>
          <label htmlFor="runs-search">Title contains</label>
          <input id="runs-search" type="search" value={search} onChange={(event) => setSearch(event.target.value)} />
        </div>
      </div>
      {runs.isError && (
        <p role="alert" className="error">
          Could not load runs: {runs.error.message}
        </p>
      )}
      {kill.isError && (
        <p role="alert" className="error">
          Could not kill the run: {kill.error.message}
        </p>
      )}
      <table>
        <caption className="visually-hidden">Runs, most recently active first</caption>
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Status</th>
            <th scope="col">Phase</th>
            <th scope="col">Round</th>
            <th scope="col">Cost</th>
            <th scope="col">Duration</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {runs.data?.items.map((run) => (
            <RunRow
              key={run.id}
              run={run}
              now={now}
              onKill={() => kill.mutate({ id: run.id })}
              killing={kill.isPending && kill.variables?.id === run.id}
            />
          ))}
        </tbody>
      </table>
      {runs.data?.items.length === 0 && <p className="muted">No runs match.</p>}
    </section>
  );
}

function RunRow({ run, now, onKill, killing }: { run: TSession; now: number; onKill: () => void; killing: boolean }) {
  const name = run.title ?? run.agentId ?? run.id;
  const finished = run.synthesis !== null || run.finalRecommendation !== null || run.error !== null;
  return (
    <>
      <tr data-run-id={run.id} aria-label={name}>
        <th scope="row">
          {name}
          {run.agentId && run.title && <div className="muted">{run.agentId}</div>}
        </th>
        <td>
          <span className={`status status-${run.status}`}>{run.status}</span>
        </td>
        <td>{run.phase ?? '—'}</td>
        <td>{run.round}</td>
        <td>{run.totalCost}</td>
        <td>{durationOf(run, now)}</td>
        <td>
          {(run.status === 'running' || run.status === 'created') && (
            <button type="button" className="danger" onClick={onKill} disabled={killing} aria-label={`Kill ${name}`}>
              Kill
            </button>
          )}
        </td>
      </tr>
      {finished && (
        <tr className="run-result">
          <td colSpan={7}>
            {run.synthesis && (
              <details>
                <summary>Synthesis</summary>
                <p className="message-content">{run.synthesis}</p>
              </details>
            )}
            {run.finalRecommendation && (
              <p>
                <strong>Recommendation:</strong> {run.finalRecommendation}
              </p>
            )}
            {run.error && <p className="error">Error: {run.error}</p>}
          </td>
        </tr>
      )}
    </>
  );
}
