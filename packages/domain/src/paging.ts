import { createHash } from 'node:crypto';
import type { ContentLimits } from '@threadstore/contract';
import * as z from 'zod';
import { DomainError } from './errors.ts';

/** The page size a listing uses: the caller's, if within `maxPageSize`, else the default. */
export function pageSize(
  requested: number | undefined,
  limits: Pick<ContentLimits, 'defaultPageSize' | 'maxPageSize'>,
) {
  if (requested === undefined) return limits.defaultPageSize;
  if (requested > limits.maxPageSize) {
    throw new DomainError('BAD_REQUEST', `a page holds at most ${limits.maxPageSize} items (maxPageSize)`, {
      limit: 'maxPageSize',
      max: limits.maxPageSize,
      actual: requested,
    });
  }
  return requested;
}

/** A keyset position: the sort key as text, and the id that breaks ties. */
export interface CursorPosition {
  /** The sort key, e.g. an ISO timestamp with microseconds, or a rank. */
  key: string;
  id: string;
}

/** A sort key that is PostgreSQL's own microsecond timestamp (a JS Date would round it). */
export const TIMESTAMP_CURSOR_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/**
 * Cursors are base64url JSON of the position plus a digest of the position and its binding.
 * The digest is not a secret (every query is scoped to its owner anyway, so a forged cursor
 * could only reposition the forger's own listing): it turns a cursor used by someone else, with
 * other filters, or edited, into a clear BAD_REQUEST instead of a silently wrong page.
 */
function digestOf(position: CursorPosition, binding: string): string {
  return createHash('sha256')
    .update(JSON.stringify([binding, position.key, position.id]))
    .digest('base64url')
    .slice(0, 22);
}

/** A cursor for `position` in the listing `binding` names (its owner and filters, as a string). */
export function encodeCursor(position: CursorPosition, binding: string): string {
  const body = { k: position.key, id: position.id, d: digestOf(position, binding) };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

const ZCursorBody = z.object({ k: z.string().max(64), id: z.uuid(), d: z.string() });

/** The position in `cursor`, if it was made for `binding` and its key matches `keyPattern`; else BAD_REQUEST. */
export function decodeCursor(
  cursor: string,
  binding: string,
  keyPattern: RegExp = TIMESTAMP_CURSOR_KEY,
): CursorPosition {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    body = null;
  }
  const parsed = ZCursorBody.safeParse(body);
  if (
    !parsed.success ||
    !keyPattern.test(parsed.data.k) ||
    parsed.data.d !== digestOf({ key: parsed.data.k, id: parsed.data.id }, binding)
  ) {
    throw new DomainError(
      'BAD_REQUEST',
      'this cursor does not belong to this listing: pass back the nextCursor of the previous page, with the same order and filters',
      { field: 'cursor' },
    );
  }
  return { key: parsed.data.k, id: parsed.data.id };
}
