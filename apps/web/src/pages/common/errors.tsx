import { isThreadstoreClientError } from '@threadstore/client';

/** The API's error code (`FORBIDDEN`, `CONFLICT`…), or undefined for a network failure. */
export function errorCode(error: unknown): string | undefined {
  return isThreadstoreClientError(error) ? error.data?.code : undefined;
}

/** A failed call, said in the page's words, announced to screen readers. */
export function ErrorNote({ error, action }: { error: unknown; action: string }) {
  if (error === null || error === undefined) return null;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <p role="alert" className="error">
      Could not {action}: {message}
    </p>
  );
}
