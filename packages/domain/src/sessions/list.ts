import type { ContentLimits, TListSessionsInput, TSessionPage } from '@threadstore/contract';
import type { EntityManager } from '@threadstore/db';
import { query } from '../messages/sql.ts';
import { decodeCursor, encodeCursor, pageSize } from '../paging.ts';
import type { Owner } from '../principal.ts';
import { normalizeTag } from './organize.ts';
import { listingStatement, sessionFromRow, type ListingFilters, type SessionRow } from './sql.ts';

/**
 * A page of the caller's sessions, pinned ones first, each part newest first, by keyset: each page
 * continues strictly after the previous page's last (pinned or not, sort key, id), so the cost of
 * a page does not grow with its depth and concurrent inserts never shift rows between pages. The
 * (owner, sort key, id) indexes serve the unpinned part, small partial indexes the pinned one: a
 * page reads the pinned part, then (when it is used up) the unpinned part, so neither needs a
 * sort of everything the owner has. A session whose activity moves while a client pages (a new
 * message, say), or that is pinned or unpinned meanwhile, moves ahead of where that client reads.
 */
export async function listSessions(
  em: EntityManager,
  owner: Owner,
  input: TListSessionsInput,
  limits: ContentLimits,
): Promise<TSessionPage> {
  const size = pageSize(input.limit, limits);
  const listing = listingOf(input);
  const binding = bindingOf(owner, listing);
  const after = input.cursor === undefined ? null : decodeCursor(input.cursor, binding, SESSION_CURSOR_KEY);
  // One row more than the page tells whether another page follows.
  const statement = listingStatement(
    owner,
    listing,
    after === null ? null : { pinned: after.key.startsWith('p'), key: after.key.slice(1), id: after.id },
    size + 1,
  );
  const rows = await query<SessionRow>(em, statement.text, statement.values);
  const page = rows.slice(0, size);
  const last = page.at(-1);
  return {
    items: page.map(sessionFromRow),
    nextCursor:
      rows.length > size && last !== undefined ? encodeCursor({ key: last.cursor_key, id: last.id }, binding) : null,
  };
}

/** A cursor's key: `p` (pinned part) or `u` (unpinned part), then PostgreSQL's microsecond sort key. */
const SESSION_CURSOR_KEY = /^[pu]\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** The order and filters a cursor belongs to, normalized so equal listings compare equal. */
function listingOf(input: TListSessionsInput): ListingFilters {
  return {
    orderBy: input.orderBy,
    statuses: input.status === undefined ? null : [...new Set([input.status].flat())].sort(),
    projectId: input.projectId ?? null,
    // The bin shows archived sessions too unless asked otherwise: deletion is what put them there.
    archived: input.archived ?? (input.deleted ? 'all' : false),
    deleted: input.deleted,
    titleContains: input.titleContains ?? null,
    tag: input.tag === undefined ? null : normalizeTag(input.tag, 'tag'),
  };
}

/** What a cursor is bound to: its owner and its listing. */
function bindingOf(owner: Owner, listing: ListingFilters): string {
  const ownerKey = owner.userId !== undefined ? `user:${owner.userId}` : `anonymous:${owner.anonymousId}`;
  return JSON.stringify([ownerKey, listing]);
}
