/**
 * LLM and tool output is hostile input. PostgreSQL refuses a NUL in `text` (SQLSTATE 22021) and
 * `\u0000` in `jsonb` (22P05), refuses a lone UTF-16 surrogate in `jsonb` (22P02) and silently
 * rewrites one in `text`. Replacing both with U+FFFD before anything is serialized keeps one bad
 * value from failing its whole batch, while valid text (surrogate pairs included) is left alone.
 */
export const REPLACEMENT_CHARACTER = '\uFFFD';

/** `text` with every NUL and lone surrogate replaced by U+FFFD; the very same string when it had none. */
export function sanitizeText(text: string): string {
  // Clean text, the common case, costs two native scans and allocates nothing.
  if (text.isWellFormed() && !text.includes('\0')) return text;
  return text.toWellFormed().replaceAll('\0', REPLACEMENT_CHARACTER);
}

/**
 * A JSON value with `sanitizeText` applied to every string and every object key, at any depth;
 * the very same reference when nothing needed replacing, so `sanitizeJson(v) !== v` tells
 * whether anything did. Recursive: bound the depth first (`prepareJson` does).
 */
export function sanitizeJson(value: unknown): unknown {
  if (typeof value === 'string') return sanitizeText(value);
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const clean = sanitizeJson(item);
      if (!Object.is(clean, item)) {
        copy ??= value.slice();
        copy[i] = clean;
      }
    }
    return copy ?? value;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    let changed = false;
    for (const entry of entries) {
      const [key, item] = entry;
      const cleanKey = sanitizeText(key);
      const cleanItem = sanitizeJson(item);
      if (cleanKey !== key || !Object.is(cleanItem, item)) {
        entry[0] = cleanKey;
        entry[1] = cleanItem;
        changed = true;
      }
    }
    // fromEntries defines own properties, so a `__proto__` key stays data, never a prototype.
    return changed ? Object.fromEntries(entries) : value;
  }
  return value;
}
