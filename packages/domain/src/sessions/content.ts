import type { ContentLimits } from '@threadstore/contract';
import { checkTextBytes, prepareJson } from '../content/limits.ts';
import { sanitizeText } from '../content/sanitize.ts';

// Session fields carry agent output (a synthesis, an error) as much as user input, so they get
// the messages' treatment: over a limit is a BAD_REQUEST naming it, NULs and lone surrogates
// become U+FFFD instead of failing the write.

/** `text` within `maxContentBytes`, sanitized; undefined stays undefined. */
export function cleanText<T extends string | null | undefined>(text: T, field: string, limits: ContentLimits): T {
  if (typeof text !== 'string') return text;
  checkTextBytes(text, limits, field);
  return sanitizeText(text) as T;
}

/** A JSON object within `maxJsonDepth` and `maxJsonBytes`, sanitized; undefined stays undefined. */
export function cleanJsonObject(
  value: Record<string, unknown> | undefined,
  field: string,
  limits: ContentLimits,
): Record<string, unknown> | undefined {
  return value === undefined ? undefined : (prepareJson(value, limits, field).value as Record<string, unknown>);
}
