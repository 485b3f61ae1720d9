import { useId, useState, type FormEvent, type KeyboardEvent } from 'react';

/** The message box: Enter sends, Shift+Enter starts a new line. */
export function Composer({ onSend, disabled = false }: { onSend: (content: string) => void; disabled?: boolean }) {
  const [content, setContent] = useState('');
  const id = useId();
  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    const text = content.trim();
    if (text === '' || disabled) return;
    onSend(text);
    setContent('');
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) submit(event);
  };
  return (
    <form className="composer" onSubmit={submit}>
      <label htmlFor={id} className="visually-hidden">
        Message
      </label>
      <textarea
        id={id}
        rows={2}
        placeholder="Write a message"
        value={content}
        onChange={(event) => setContent(event.target.value)}
        onKeyDown={onKeyDown}
      />
      <button type="submit" disabled={disabled || content.trim() === ''}>
        Send
      </button>
    </form>
  );
}
