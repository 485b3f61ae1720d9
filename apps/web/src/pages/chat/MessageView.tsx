import type { TMessage } from '@threadstore/client';
import { memo } from 'react';

/** A citation as models and tools commonly give it; anything else is shown as JSON. */
function citationLabel(citation: unknown): { text: string; href: string | null } {
  if (typeof citation === 'string') return { text: citation, href: /^https?:\/\//.test(citation) ? citation : null };
  if (citation !== null && typeof citation === 'object') {
    const { title, url, source } = citation as { title?: unknown; url?: unknown; source?: unknown };
    const href = typeof url === 'string' && /^https?:\/\//.test(url) ? url : null;
    const text = [title, source, url].find((value) => typeof value === 'string') as string | undefined;
    return { text: text ?? JSON.stringify(citation), href };
  }
  return { text: JSON.stringify(citation), href: null };
}

function toolCallLabel(call: unknown): string {
  if (call !== null && typeof call === 'object') {
    const { name, function: fn } = call as { name?: unknown; function?: { name?: unknown } };
    if (typeof name === 'string') return name;
    if (typeof fn?.name === 'string') return fn.name;
  }
  return 'tool call';
}

const ROLE_LABEL: Record<TMessage['role'], string> = {
  user: 'You',
  assistant: 'Assistant',
  system: 'System',
  tool: 'Tool',
};

/** One message: who said it, the text, and its citations and tool calls when it has them. */
export const MessageView = memo(function MessageView({
  message,
  streaming = false,
}: {
  message: Pick<TMessage, 'role' | 'content' | 'citations' | 'toolCalls' | 'seq' | 'model'>;
  streaming?: boolean;
}) {
  return (
    <article
      className={`message message-${message.role}`}
      aria-label={`${ROLE_LABEL[message.role]}, message ${message.seq}`}
    >
      <header className="message-meta">
        <span className="message-role">{ROLE_LABEL[message.role]}</span>
        {message.model && <span className="muted"> · {message.model}</span>}
        {streaming && (
          <span className="muted" role="status">
            {' '}
            · answering…
          </span>
        )}
      </header>
      <p className="message-content">{message.content}</p>
      {message.citations && message.citations.length > 0 && (
        <details className="message-extra">
          <summary>Citations ({message.citations.length})</summary>
          <ol>
            {message.citations.map((citation, index) => {
              const { text, href } = citationLabel(citation);
              return <li key={index}>{href ? <a href={href}>{text}</a> : text}</li>;
            })}
          </ol>
        </details>
      )}
      {message.toolCalls && message.toolCalls.length > 0 && (
        <details className="message-extra">
          <summary>Tool calls ({message.toolCalls.length})</summary>
          <ol>
            {message.toolCalls.map((call, index) => (
              <li key={index}>
                <code>{toolCallLabel(call)}</code>
                <pre>{JSON.stringify(call, null, 2)}</pre>
              </li>
            ))}
          </ol>
        </details>
      )}
    </article>
  );
});
