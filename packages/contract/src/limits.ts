/**
 * Limits the server enforces on content. The server's configuration can tighten or loosen each
 * one; these are the defaults, exported so clients can validate before sending.
 */
export interface ContentLimits {
  /** UTF-8 bytes of one message's content. */
  maxContentBytes: number;
  /** UTF-8 bytes of one JSON value (metadata, context, citations, tool calls) once serialized. */
  maxJsonBytes: number;
  /** Nesting depth of one JSON value: `{}` is depth 1. */
  maxJsonDepth: number;
  /** Messages in one `messages.appendMany`. */
  maxBatchSize: number;
  /** Items in one page when the caller does not ask. */
  defaultPageSize: number;
  /** Items in one page at most. */
  maxPageSize: number;
}

export const DEFAULT_CONTENT_LIMITS: ContentLimits = {
  maxContentBytes: 256 * 1024,
  maxJsonBytes: 64 * 1024,
  maxJsonDepth: 16,
  maxBatchSize: 1_000,
  defaultPageSize: 50,
  maxPageSize: 200,
};
