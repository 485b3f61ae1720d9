import type { ContentLimits } from '@threadstore/contract';
import { DomainError } from '../errors.ts';
import { sanitizeJson } from './sanitize.ts';

/**
 * BAD_REQUEST for input over one of the configured limits: the message names the limit and its
 * value, the details say the same for a client to act on, and `field` says where (`messages[3].metadata`).
 */
export function overLimit(
  limit: keyof ContentLimits,
  max: number,
  actual: number,
  problem: string,
  field?: string,
): DomainError {
  return new DomainError('BAD_REQUEST', `${problem}; the limit ${limit} is ${max}`, {
    limit,
    max,
    actual,
    ...(field === undefined ? {} : { field }),
  });
}

/** Throws unless `text` fits in `maxContentBytes` once encoded as UTF-8 (what PostgreSQL stores). */
export function checkTextBytes(text: string, limits: Pick<ContentLimits, 'maxContentBytes'>, field: string): void {
  // Each UTF-16 unit takes at most 3 UTF-8 bytes, so short text needs no counting at all.
  if (text.length * 3 <= limits.maxContentBytes) return;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxContentBytes) {
    throw overLimit('maxContentBytes', limits.maxContentBytes, bytes, `${field} is ${bytes} bytes`, field);
  }
}

/**
 * How deeply a JSON value nests: a scalar is 0, `{}` and `[]` are 1, `{"a": []}` is 2. Measured
 * with an explicit stack, so a hostile 100,000-level nesting cannot overflow the call stack, and
 * measuring stops as soon as it passes `ceiling` (so a cyclic object from in-process code ends too).
 */
export function jsonDepth(value: unknown, ceiling = Number.POSITIVE_INFINITY): number {
  const nodes: unknown[] = [value];
  const depths: number[] = [1];
  let deepest = 0;
  while (nodes.length > 0) {
    const node = nodes.pop();
    const depth = depths.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > deepest) {
      deepest = depth;
      if (deepest > ceiling) return deepest;
    }
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') {
        nodes.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return deepest;
}

export interface PreparedJson {
  /** The value with NULs and lone surrogates replaced (the input itself when it had none). */
  value: unknown;
  /** `value` serialized: what goes to a `jsonb` parameter, and what `maxJsonBytes` measures. */
  json: string;
  sanitized: boolean;
}

/**
 * Readies one JSON value (metadata, context, citations, tool calls) for storage: refuses it when
 * it nests deeper than `maxJsonDepth` (checked first, before anything recursive touches it), then
 * sanitizes it, serializes it and refuses it when that is over `maxJsonBytes`.
 */
export function prepareJson(
  value: unknown,
  limits: Pick<ContentLimits, 'maxJsonDepth' | 'maxJsonBytes'>,
  field: string,
): PreparedJson {
  const max = limits.maxJsonDepth;
  const depth = jsonDepth(value, max);
  if (depth > max) {
    // Measuring stopped one level past the limit: `actual` is how deep it got, not the full depth.
    throw overLimit('maxJsonDepth', max, depth, `${field} nests more than ${max} levels deep`, field);
  }
  const clean = sanitizeJson(value);
  const json = JSON.stringify(clean) ?? 'null';
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > limits.maxJsonBytes) {
    throw overLimit('maxJsonBytes', limits.maxJsonBytes, bytes, `${field} is ${bytes} bytes as JSON`, field);
  }
  return { value: clean, json, sanitized: clean !== value };
}
