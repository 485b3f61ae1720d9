import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { useTRPC } from '../../app/api.tsx';
import { useAuth } from '../../app/auth.tsx';
import { ErrorNote, errorCode } from '../common/errors.tsx';
import { formatTimestamp } from '../common/format.ts';
import { SearchForm } from '../common/SearchForm.tsx';
import { SignInRequired } from '../common/SignInRequired.tsx';
import '../common/pages.css';
import { Snippet } from './Snippet.tsx';

/** The caller's knowledge base: search with highlighted passages, create and edit entries. */
export default function KnowledgePage() {
  const { identity } = useAuth();
  if (identity.kind !== 'user') return <SignInRequired title="Knowledge" what="keep a knowledge base" />;
  return <KnowledgeBase />;
}

type Selection = { kind: 'none' } | { kind: 'new' } | { kind: 'entry'; id: string };

function KnowledgeBase() {
  const [selection, setSelection] = useState<Selection>({ kind: 'none' });
  const [query, setQuery] = useState('');
  return (
    <div className="split">
      <section aria-labelledby="knowledge-heading" className="split-list">
        <div className="toolbar">
          <h1 id="knowledge-heading">Knowledge</h1>
          <button type="button" onClick={() => setSelection({ kind: 'new' })}>
            New entry
          </button>
        </div>
        <SearchForm label="Search knowledge" onSearch={setQuery} />
        {query === '' ? (
          <EntryList onOpen={(id) => setSelection({ kind: 'entry', id })} />
        ) : (
          <SearchResults query={query} onOpen={(id) => setSelection({ kind: 'entry', id })} />
        )}
      </section>
      <section aria-label="Entry" className="split-detail">
        {selection.kind === 'none' && <p className="muted">Choose an entry, or write a new one.</p>}
        {selection.kind === 'new' && <EntryEditor key="new" onSaved={(id) => setSelection({ kind: 'entry', id })} />}
        {selection.kind === 'entry' && <StoredEntry key={selection.id} id={selection.id} />}
      </section>
    </div>
  );
}

function SearchResults({ query, onOpen }: { query: string; onOpen(id: string): void }) {
  const trpc = useTRPC();
  const hits = useQuery(trpc.knowledge.search.queryOptions({ query, limit: 20 }));
  if (hits.isPending) return <p role="status">Searching…</p>;
  if (hits.isError) return <ErrorNote error={hits.error} action="search" />;
  if (hits.data.items.length === 0) return <p role="status">Nothing matches “{query}”.</p>;
  return (
    <ol className="result-list" aria-label={`Results for ${query}`}>
      {hits.data.items.map((hit) => (
        <li key={hit.entry.id}>
          <button type="button" className="link-button" onClick={() => onOpen(hit.entry.id)}>
            {hit.entry.title}
          </button>
          <Snippet snippet={hit.snippet} />
        </li>
      ))}
    </ol>
  );
}

function EntryList({ onOpen }: { onOpen(id: string): void }) {
  const trpc = useTRPC();
  const entries = useQuery(trpc.knowledge.list.queryOptions({ limit: 50 }));
  if (entries.isPending) return <p role="status">Loading entries…</p>;
  if (entries.isError) return <ErrorNote error={entries.error} action="load the entries" />;
  if (entries.data.items.length === 0) return <p>No entries yet.</p>;
  return (
    <ul className="result-list" aria-label="Entries">
      {entries.data.items.map((entry) => (
        <li key={entry.id}>
          <button type="button" className="link-button" onClick={() => onOpen(entry.id)}>
            {entry.title}
          </button>
          <p className="muted">
            {entry.tags.length > 0 && <span>{entry.tags.join(', ')} · </span>}
            updated {formatTimestamp(entry.updatedAt)}
          </p>
        </li>
      ))}
    </ul>
  );
}

function StoredEntry({ id }: { id: string }) {
  const trpc = useTRPC();
  const entry = useQuery(trpc.knowledge.get.queryOptions({ id }));
  if (entry.isPending) return <p role="status">Loading…</p>;
  if (entry.isError) return <ErrorNote error={entry.error} action="load the entry" />;
  // Keyed by version: a save shows the stored entry afresh.
  return <EntryEditor key={entry.data.version} entry={entry.data} />;
}

interface EditableEntry {
  id: string;
  version: number;
  title: string;
  content: string;
  tags: string[];
}

/** Tags as typed: "a, b c" → ["a", "b", "c"]. */
function parseTags(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter((tag) => tag !== ''))];
}

/** Creates an entry (without `entry`) or edits one, refusing to overwrite a newer version. */
function EntryEditor({ entry, onSaved }: { entry?: EditableEntry; onSaved?(id: string): void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const ids = { title: useId(), tags: useId(), content: useId() };
  const [title, setTitle] = useState(entry?.title ?? '');
  const [tags, setTags] = useState(entry?.tags.join(', ') ?? '');
  const [content, setContent] = useState(entry?.content ?? '');
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.knowledge.pathKey() });
  const create = useMutation(
    trpc.knowledge.create.mutationOptions({
      onSuccess: async (created) => {
        await refresh();
        onSaved?.(created.id);
      },
    }),
  );
  const update = useMutation(trpc.knowledge.update.mutationOptions({ onSuccess: refresh }));
  const saving = create.isPending || update.isPending;
  const failed = create.error ?? update.error;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const fields = { title, content, tags: parseTags(tags) };
    if (entry === undefined) create.mutate(fields);
    else update.mutate({ id: entry.id, expectedVersion: entry.version, ...fields });
  };
  return (
    <form className="form-grid wide" onSubmit={submit} aria-label={entry ? `Edit ${entry.title}` : 'New entry'}>
      <h2>{entry ? 'Edit entry' : 'New entry'}</h2>
      {entry && <p className="muted">Version {entry.version}</p>}
      <div>
        <label htmlFor={ids.title}>Title</label>
        <input id={ids.title} required value={title} onChange={(event) => setTitle(event.target.value)} />
      </div>
      <div>
        <label htmlFor={ids.tags}>Tags</label>
        <input
          id={ids.tags}
          value={tags}
          aria-describedby={`${ids.tags}-hint`}
          onChange={(event) => setTags(event.target.value)}
        />
        <span id={`${ids.tags}-hint`} className="muted">
          Separated by commas or spaces.
        </span>
      </div>
      <div>
        <label htmlFor={ids.content}>Content (Markdown)</label>
        <textarea id={ids.content} rows={14} value={content} onChange={(event) => setContent(event.target.value)} />
      </div>
      <div>
        <button type="submit" disabled={saving}>
          {saving ? 'Saving…' : entry ? 'Save' : 'Create'}
        </button>
      </div>
      {errorCode(failed) === 'CONFLICT' ? (
        <p role="alert" className="error">
          Someone saved a newer version meanwhile; reopen the entry to see it before editing.
        </p>
      ) : (
        <ErrorNote error={failed} action="save the entry" />
      )}
      {update.isSuccess && (
        <p role="status" className="ok">
          Saved.
        </p>
      )}
    </form>
  );
}
