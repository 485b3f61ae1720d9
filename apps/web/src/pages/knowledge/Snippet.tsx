import { parseSnippet } from './snippet.ts';

/** A search snippet with the matched words marked (`<mark>`, which screen readers announce). */
export function Snippet({ snippet }: { snippet: string }) {
  return (
    <p className="snippet">
      {parseSnippet(snippet).map((part, index) =>
        part.match ? <mark key={index}>{part.text}</mark> : <span key={index}>{part.text}</span>,
      )}
    </p>
  );
}
