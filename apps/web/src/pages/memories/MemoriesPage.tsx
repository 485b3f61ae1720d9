import type { TMemory } from '@threadstore/client';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useTRPC } from '../../app/api.tsx';
import { useAuth } from '../../app/auth.tsx';
import { ErrorNote } from '../common/errors.tsx';
import { formatTimestamp } from '../common/format.ts';
import { SearchForm } from '../common/SearchForm.tsx';
import { SignInRequired } from '../common/SignInRequired.tsx';
import '../common/pages.css';

const KIND_LABELS: Record<TMemory['kind'], string> = {
  long_term: 'long-term',
  episodic: 'episodic',
  short_term: 'short-term',
};

/** What assistants remember about the signed-in user, each memory with its versions. */
export default function MemoriesPage() {
  const { identity } = useAuth();
  if (identity.kind !== 'user') return <SignInRequired title="Memories" what="see what assistants remember" />;
  return <Memories />;
}

function Memories() {
  const [query, setQuery] = useState('');
  const [openId, setOpenId] = useState<string | null>(null);
  return (
    <div className="split">
      <section aria-labelledby="memories-heading" className="split-list">
        <h1 id="memories-heading">Memories</h1>
        <SearchForm label="Search memories" onSearch={setQuery} />
        {query === '' ? <MemoryList onOpen={setOpenId} /> : <MemorySearch query={query} onOpen={setOpenId} />}
      </section>
      <section aria-label="History" className="split-detail">
        {openId === null ? (
          <p className="muted">Choose a memory to see how it changed.</p>
        ) : (
          <MemoryHistory key={openId} id={openId} />
        )}
      </section>
    </div>
  );
}

function MemoryList({ onOpen }: { onOpen(id: string): void }) {
  const trpc = useTRPC();
  const memories = useQuery(trpc.memories.list.queryOptions({ limit: 50 }));
  if (memories.isPending) return <p role="status">Loading memories…</p>;
  if (memories.isError) return <ErrorNote error={memories.error} action="load the memories" />;
  if (memories.data.items.length === 0) return <p>Nothing remembered yet.</p>;
  return <MemoryItems label="Memories" memories={memories.data.items} onOpen={onOpen} />;
}

function MemorySearch({ query, onOpen }: { query: string; onOpen(id: string): void }) {
  const trpc = useTRPC();
  const hits = useQuery(trpc.memories.search.queryOptions({ query, limit: 20 }));
  if (hits.isPending) return <p role="status">Searching…</p>;
  if (hits.isError) return <ErrorNote error={hits.error} action="search" />;
  if (hits.data.items.length === 0) return <p role="status">Nothing matches “{query}”.</p>;
  return (
    <MemoryItems label={`Results for ${query}`} memories={hits.data.items.map((hit) => hit.memory)} onOpen={onOpen} />
  );
}

function MemoryItems({ label, memories, onOpen }: { label: string; memories: TMemory[]; onOpen(id: string): void }) {
  return (
    <ul className="result-list" aria-label={label}>
      {memories.map((memory) => (
        <li key={memory.id}>
          <button type="button" className="link-button" onClick={() => onOpen(memory.id)}>
            {memory.content}
          </button>
          <p className="muted">
            {KIND_LABELS[memory.kind]} · about {memory.subject}
            {memory.key !== null && ` (${memory.key})`} · version {memory.version}
          </p>
        </li>
      ))}
    </ul>
  );
}

/** Every version of one memory, newest first, with when each was valid. */
function MemoryHistory({ id }: { id: string }) {
  const trpc = useTRPC();
  const history = useQuery(trpc.memories.history.queryOptions({ id }));
  if (history.isPending) return <p role="status">Loading the history…</p>;
  if (history.isError) return <ErrorNote error={history.error} action="load the history" />;
  const versions = [...history.data.items].sort((a, b) => b.version - a.version);
  return (
    <>
      <h2>History</h2>
      <ol className="history" aria-label="Versions, newest first">
        {versions.map((version) => (
          <li key={version.versionId}>
            <p>
              <strong>Version {version.version}</strong>{' '}
              <span className="muted">
                from {formatTimestamp(version.validFrom)}
                {version.validTo === null ? ' (current)' : ` to ${formatTimestamp(version.validTo)}`}
              </span>
            </p>
            <p>{version.content}</p>
            <p className="muted">
              importance {version.importance.toFixed(2)} · confidence {version.confidence.toFixed(2)}
            </p>
          </li>
        ))}
      </ol>
    </>
  );
}
