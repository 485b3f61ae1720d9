import { useId, useState, type FormEvent } from 'react';

/** A search box that searches on submit (Enter or the button); an empty query shows the list. */
export function SearchForm({ label, onSearch }: { label: string; onSearch(query: string): void }) {
  const id = useId();
  const [text, setText] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSearch(text.trim());
  };
  return (
    <form role="search" className="search-form" onSubmit={submit}>
      <label htmlFor={id}>{label}</label>
      <div className="search-row">
        <input id={id} type="search" value={text} onChange={(event) => setText(event.target.value)} />
        <button type="submit">Search</button>
      </div>
    </form>
  );
}
