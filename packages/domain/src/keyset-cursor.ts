import { createHash } from 'node:crypto';
import type * as z from 'zod';
import { DomainError } from './errors.ts';

// Keyset cursors for listings other than sessions: base64url JSON of the last position plus a
// digest of the position and what it is bound to (the caller and the listing's filters). The
// digest is not a secret (every query is scoped to its owner anyway): it turns a cursor used with
// other filters, by someone else, or edited, into a clear BAD_REQUEST instead of a wrong page.

function digestOf(position: unknown, binding: string): string {
  return createHash('sha256')
    .update(JSON.stringify([binding, position]))
    .digest('base64url')
    .slice(0, 22);
}

export function encodeKeysetCursor(position: Record<string, unknown>, binding: string): string {
  return Buffer.from(JSON.stringify({ p: position, d: digestOf(position, binding) })).toString('base64url');
}

export function decodeKeysetCursor<P>(cursor: string, binding: string, schema: z.ZodType<P>): P {
  let body: { p?: unknown; d?: unknown } | null = null;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { p?: unknown; d?: unknown };
  } catch {
    // Refused below.
  }
  const parsed = schema.safeParse(body?.p);
  if (!parsed.success || body?.d !== digestOf(parsed.data, binding)) {
    throw new DomainError(
      'BAD_REQUEST',
      'this cursor does not belong to this listing: pass back the nextCursor of the previous page, with the same input',
      { field: 'cursor' },
    );
  }
  return parsed.data;
}
