import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useDeferredValue, useState } from 'react';
import { Link } from 'wouter';
import { useTRPC } from '../../app/api.tsx';

/** The visitor's conversations, newest activity first, searchable by title, live. */
export function SessionList({ currentId }: { currentId: string | null }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [search, setSearch] = useState('');
  const titleContains = useDeferredValue(search.trim());
  const sessions = useQuery(
    trpc.sessions.list.queryOptions({ limit: 50, ...(titleContains === '' ? {} : { titleContains }) }),
  );
  // A session created or changed anywhere (another tab, another device) refreshes the list; so
  // does each (re)connection of the feed, which covers what changed before the server followed.
  const reload = () => void queryClient.invalidateQueries({ queryKey: trpc.sessions.list.queryKey() });
  useSubscription(trpc.sessions.watchList.subscriptionOptions({}, { onStarted: reload, onData: reload }));
  return (
    <nav className="session-list" aria-label="Conversations">
      <Link href="/chat" className="new-chat">
        New conversation
      </Link>
      <label htmlFor="session-search" className="visually-hidden">
        Search conversations
      </label>
      <input
        id="session-search"
        type="search"
        placeholder="Search conversations"
        value={search}
        onChange={(event) => setSearch(event.target.value)}
      />
      {sessions.isError && (
        <p role="alert" className="error">
          Could not load conversations: {sessions.error.message}
        </p>
      )}
      <ul>
        {sessions.data?.items.map((session) => (
          <li key={session.id}>
            <Link href={`/chat/${session.id}`} aria-current={session.id === currentId ? 'page' : undefined}>
              {session.title ?? 'Untitled'}
              <span className="muted session-count"> · {session.messageCount}</span>
            </Link>
          </li>
        ))}
      </ul>
      {sessions.data?.items.length === 0 && (
        <p className="muted">{titleContains ? 'No match.' : 'No conversations yet.'}</p>
      )}
    </nav>
  );
}
