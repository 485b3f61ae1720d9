import type { TAcademyProfile, TLearnerMission, TLeaderboardPeriod } from '@threadstore/client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { useTRPC } from '../../app/api.tsx';
import { useAuth } from '../../app/auth.tsx';
import { ErrorNote } from '../common/errors.tsx';
import { formatTimestamp } from '../common/format.ts';
import { Segmented } from '../common/Segmented.tsx';
import { SignInRequired } from '../common/SignInRequired.tsx';
import '../common/pages.css';
import { levelProgress, missionTarget } from './progress.ts';

/** The learner's academy: profile, XP and level, missions with progress, badges, leaderboard. */
export default function AcademyPage() {
  const { identity } = useAuth();
  if (identity.kind !== 'user') return <SignInRequired title="Academy" what="earn XP, missions and badges" />;
  return (
    <div className="academy">
      <h1>Academy</h1>
      <Profile />
      <div className="academy-columns">
        <Missions />
        <Badges />
      </div>
      <Leaderboard />
    </div>
  );
}

function Profile() {
  const trpc = useTRPC();
  const profile = useQuery(trpc.academy.profile.queryOptions());
  if (profile.isPending) return <p role="status">Loading your profile…</p>;
  if (profile.isError) return <ErrorNote error={profile.error} action="load your profile" />;
  const { level, totalXp, nextLevelXp, currentStreak, longestStreak } = profile.data;
  const progress = levelProgress(profile.data);
  return (
    <section aria-labelledby="profile-heading" className="card">
      <h2 id="profile-heading">Profile</h2>
      <DisplayName profile={profile.data} />
      <dl className="figures">
        <div>
          <dt>Level</dt>
          <dd data-testid="level">{level}</dd>
        </div>
        <div>
          <dt>XP</dt>
          <dd data-testid="xp">{totalXp}</dd>
        </div>
        <div>
          <dt>Streak</dt>
          <dd>
            {currentStreak} {currentStreak === 1 ? 'day' : 'days'}{' '}
            <span className="muted">(longest {longestStreak})</span>
          </dd>
        </div>
      </dl>
      <label htmlFor="level-progress">
        {nextLevelXp - totalXp} XP to level {level + 1}
      </label>
      <progress id="level-progress" max={1} value={progress}>
        {Math.round(progress * 100)}%
      </progress>
    </section>
  );
}

/** The name shown on the leaderboard, the only thing a learner says about themselves. */
function DisplayName({ profile }: { profile: TAcademyProfile }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const id = useId();
  const [name, setName] = useState(profile.displayName ?? '');
  const update = useMutation(
    trpc.academy.updateProfile.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.academy.pathKey() }),
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    update.mutate({ displayName: name.trim() === '' ? null : name.trim() });
  };
  return (
    <form className="inline-form" onSubmit={submit}>
      <label htmlFor={id}>Display name</label>
      <input id={id} value={name} maxLength={80} onChange={(event) => setName(event.target.value)} />
      <button type="submit" className="secondary" disabled={update.isPending}>
        Save
      </button>
      <ErrorNote error={update.error} action="save the name" />
    </form>
  );
}

const STATUS_LABELS: Record<TLearnerMission['status'], string> = {
  not_started: 'not started',
  in_progress: 'in progress',
  completed: 'completed',
  expired: 'expired',
};

function Missions() {
  const trpc = useTRPC();
  const missions = useQuery(trpc.academy.missions.queryOptions());
  return (
    <section aria-labelledby="missions-heading" className="card">
      <h2 id="missions-heading">Missions</h2>
      {missions.isPending && <p role="status">Loading missions…</p>}
      <ErrorNote error={missions.error} action="load the missions" />
      {missions.data?.items.length === 0 && <p>No missions on offer right now.</p>}
      <ul className="missions" aria-label="Missions">
        {missions.data?.items.map((item) => {
          const target = missionTarget(item);
          const progressId = `mission-${item.mission.id}`;
          return (
            <li key={item.mission.id}>
              <p>
                <strong>{item.mission.title}</strong> <span className="muted">+{item.mission.xpReward} XP</span>
              </p>
              {item.mission.description && <p className="muted">{item.mission.description}</p>}
              <label htmlFor={progressId} className="plain">
                {target === null
                  ? STATUS_LABELS[item.status]
                  : `${Math.min(item.progress, target)} of ${target} · ${STATUS_LABELS[item.status]}`}
                {item.completedAt && ` on ${formatTimestamp(item.completedAt)}`}
              </label>
              {target !== null && <progress id={progressId} max={target} value={Math.min(item.progress, target)} />}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function Badges() {
  const trpc = useTRPC();
  const badges = useQuery(trpc.academy.badges.queryOptions());
  return (
    <section aria-labelledby="badges-heading" className="card">
      <h2 id="badges-heading">Badges</h2>
      {badges.isPending && <p role="status">Loading badges…</p>}
      <ErrorNote error={badges.error} action="load the badges" />
      {badges.data?.items.length === 0 && <p>No badges earned yet.</p>}
      <ul className="badges" aria-label="Badges earned">
        {badges.data?.items.map(({ badge, awardedAt }) => (
          <li key={badge.id}>
            {badge.iconUrl ? (
              <img src={badge.iconUrl} alt="" width={32} height={32} />
            ) : (
              <span className="badge-mark" aria-hidden>
                {badge.name.slice(0, 1).toUpperCase()}
              </span>
            )}
            <span>
              <strong>{badge.name}</strong>
              <br />
              <span className="muted">earned {formatTimestamp(awardedAt)}</span>
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

const PERIODS = [
  { value: 'allTime', label: 'All time' },
  { value: 'week', label: 'This week' },
] as const satisfies readonly { value: TLeaderboardPeriod; label: string }[];

function Leaderboard() {
  const trpc = useTRPC();
  const [period, setPeriod] = useState<TLeaderboardPeriod>('allTime');
  const board = useQuery(trpc.academy.leaderboard.queryOptions({ period, limit: 20 }));
  const rank = useQuery(trpc.academy.rank.queryOptions({ period, neighbours: 0 }));
  return (
    <section aria-labelledby="leaderboard-heading" className="card">
      <div className="toolbar">
        <h2 id="leaderboard-heading">Leaderboard</h2>
        <Segmented label="Period" options={PERIODS} value={period} onChange={setPeriod} />
      </div>
      {rank.data?.you && (
        <p data-testid="your-rank">
          You are <strong>#{rank.data.you.rank}</strong> with {rank.data.you.xp} XP.
        </p>
      )}
      {board.isPending && <p role="status">Loading the leaderboard…</p>}
      <ErrorNote error={board.error} action="load the leaderboard" />
      {board.data && (
        <table>
          <caption className="visually-hidden">
            {period === 'allTime' ? 'All-time leaderboard' : `Leaderboard of the week of ${board.data.week}`}
          </caption>
          <thead>
            <tr>
              <th scope="col">Rank</th>
              <th scope="col">Learner</th>
              <th scope="col">Level</th>
              <th scope="col">XP</th>
            </tr>
          </thead>
          <tbody>
            {board.data.items.map((entry) => (
              <tr key={entry.rank} className={entry.isYou ? 'you' : undefined} aria-current={entry.isYou || undefined}>
                <td>{entry.rank}</td>
                <td>
                  {entry.displayName ?? <span className="muted">anonymous learner</span>}
                  {entry.isYou && ' (you)'}
                </td>
                <td>{entry.level}</td>
                <td>{entry.xp}</td>
              </tr>
            ))}
            {board.data.items.length === 0 && (
              <tr>
                <td colSpan={4}>Nobody has XP {period === 'week' ? 'this week' : 'yet'}.</td>
              </tr>
            )}
          </tbody>
        </table>
      )}
    </section>
  );
}
