import type { ContentLimits, TListSessionsInput, TSessionPage, TSessionStatus } from '@threadstore/contract';
import { ChatSessionSchema, raw, type EntityManager } from '@threadstore/db';
import { decodeCursor, encodeCursor, pageSize, type CursorPosition } from '../paging.ts';
import { ownerFilter, type Owner } from '../principal.ts';
import { toSessionDto } from './dto.ts';
import { normalizeTag } from './organize.ts';

/** One listing: the order and filters a cursor belongs to, normalized so equal listings compare equal. */
interface Listing {
  orderBy: TListSessionsInput['orderBy'];
  statuses: TSessionStatus[] | null;
  projectId: string | null;
  archived: boolean | 'all';
  deleted: boolean;
  titleContains: string | null;
  tag: string | null;
}

const SORT_COLUMNS = { lastActivity: 'last_activity_at', created: 'created_at' } as const;

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
  const afterPinned = after === null || after.key.startsWith('p');

  // One row more than the page tells whether another page follows.
  const rows = afterPinned ? await section(em, owner, listing, true, after, size + 1) : [];
  if (rows.length <= size) {
    rows.push(...(await section(em, owner, listing, false, afterPinned ? null : after, size + 1 - rows.length)));
  }
  const page = rows.slice(0, size);
  const last = page.at(-1);
  return {
    items: page.map(({ cursor_key: _, ...row }) => toSessionDto(em.map(ChatSessionSchema, row))),
    nextCursor:
      rows.length > size && last !== undefined
        ? encodeCursor({ key: last.cursor_key, id: String(last.id) }, binding)
        : null,
  };
}

/** A cursor's key: `p` (pinned part) or `u` (unpinned part), then PostgreSQL's microsecond sort key. */
const SESSION_CURSOR_KEY = /^[pu]\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** Up to `limit` sessions of one part of the listing (pinned or not), after `after` (a position in that part). */
async function section(
  em: EntityManager,
  owner: Owner,
  listing: Listing,
  pinned: boolean,
  after: CursorPosition | null,
  limit: number,
): Promise<({ cursor_key: string } & Record<string, unknown>)[]> {
  const column = SORT_COLUMNS[listing.orderBy];
  const query = em
    .createQueryBuilder(ChatSessionSchema, 's')
    // The sort key travels in the cursor as PostgreSQL's own microsecond value: a JS Date keeps
    // milliseconds only, and a rounded key would repeat or skip rows written by SQL's now().
    .select([
      's.*',
      raw(
        `'${pinned ? 'p' : 'u'}' || to_char(s.${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_key`,
      ),
    ])
    .where({
      ...ownerFilter(owner),
      pinnedAt: pinned ? { $ne: null } : null,
      deletedAt: listing.deleted ? { $ne: null } : null,
      ...(listing.archived === 'all' ? {} : { archivedAt: listing.archived ? { $ne: null } : null }),
      ...(listing.statuses === null ? {} : { status: { $in: listing.statuses } }),
      ...(listing.projectId === null ? {} : { project: listing.projectId }),
      ...(listing.titleContains === null ? {} : { title: { $ilike: `%${escapeLike(listing.titleContains)}%` } }),
    })
    .orderBy(listing.orderBy === 'created' ? { createdAt: 'desc', id: 'desc' } : { lastActivityAt: 'desc', id: 'desc' })
    .limit(limit);
  if (listing.tag !== null) query.andWhere('s.tags @> array[?]::text[]', [listing.tag]);
  if (after !== null) {
    query.andWhere(`(s.${column}, s.id) < (?::timestamptz, ?::uuid)`, [after.key.slice(1), after.id]);
  }
  return query.execute<({ cursor_key: string } & Record<string, unknown>)[]>('all', false);
}

function listingOf(input: TListSessionsInput): Listing {
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

/** `%` and `_` in a search are literal characters, not wildcards (`\` is PostgreSQL's LIKE escape). */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, '\\$&');
}

/** What a cursor is bound to: its owner and its listing. */
function bindingOf(owner: Owner, listing: Listing): string {
  const ownerKey = owner.userId !== undefined ? `user:${owner.userId}` : `anonymous:${owner.anonymousId}`;
  return JSON.stringify([ownerKey, listing]);
}
