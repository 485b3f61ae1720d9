import { createHash } from 'node:crypto';
import type { ContentLimits, TSearchMessagesInput, TSearchMessagesOutput } from '@threadstore/contract';
import type { EntityManager } from '@threadstore/db';
import * as z from 'zod';
import { DomainError, notFound } from '../errors.ts';
import { pageSize } from '../paging.ts';
import type { Owner } from '../principal.ts';
import { MESSAGE_COLUMNS, toMessage, type MessageRow } from './rows.ts';
import { bindings, ownedBy, query, type Bind } from './sql.ts';

/**
 * One page of full-text hits over the owner's visible messages, best first (`ts_rank`, then id),
 * with keyset paging over that order and a snippet for each hit of the page.
 *
 * The index is `chat_message_search`, which the worker's search indexer fills off the append path
 * (see ChatMessageSearchSchema). Every hit is joined back to its message and session and kept only
 * when both are visible and the session is the caller's: a message deleted, purged or owned by
 * someone else never comes out, whatever the index still holds.
 */
export async function searchMessages(
  em: EntityManager,
  owner: Owner,
  input: TSearchMessagesInput,
  limits: ContentLimits,
): Promise<TSearchMessagesOutput> {
  const limit = pageSize(input.limit, limits);
  const binding = bindingOf(owner, input);
  const after = input.cursor === undefined ? undefined : decodeCursor(input.cursor, binding);
  const statement = searchStatement(owner, input, limit, after);
  const rows = await query<SearchRow>(em, statement.text, statement.values);
  // Within one session: a session that is not the caller's answers like one that does not exist,
  // not like a session with no match.
  if (rows.length === 0 && input.sessionId !== undefined) await assertVisibleSession(em, owner, input.sessionId);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map((row) => ({ message: toMessage(row), rank: Number(row.rank_key), snippet: row.snippet })),
    nextCursor: rows.length > limit && last ? encodeCursor({ rank: last.rank_key, id: last.id }, binding) : null,
  };
}

async function assertVisibleSession(em: EntityManager, owner: Owner, sessionId: string): Promise<void> {
  const { values, bind } = bindings();
  const found = await query(
    em,
    `select from chat_sessions s where s.id = ${bind(sessionId)} and s.deleted_at is null and ${ownedBy('s', owner, bind)}`,
    values,
  );
  if (found.length === 0) throw notFound('session');
}

type SearchRow = MessageRow & { rank_key: string; snippet: string };

/** Where the previous page ended: its last hit's rank (float4 as PostgreSQL prints it, exact) and id. */
interface Position {
  rank: string;
  id: string;
}

/**
 * The filters a caller may add, each a condition on the message `m` or its search row `x`. The
 * knowledge/memory issue extends this list (project, date ranges…); each one is a bound parameter.
 */
function filtersOf(input: TSearchMessagesInput, bind: Bind): string[] {
  return [
    ...(input.sessionId === undefined ? [] : [`x.session_id = ${bind(input.sessionId)}`]),
    ...(input.role === undefined ? [] : [`m.role = ${bind(input.role)}`]),
    ...(input.chapter === undefined ? [] : [`m.chapter = ${bind(input.chapter)}`]),
  ];
}

/**
 * `hits` ranks every match the GIN index finds among the caller's visible messages and keeps the
 * page (`limit + 1`, the extra one saying whether there is more); the outer SELECT then reads the
 * page's messages and runs `ts_headline`, which re-parses a message's text, for those rows only.
 * The rank is computed once, in `hits`, and compared with the cursor as a (rank, id) row.
 */
function searchStatement(
  owner: Owner,
  input: TSearchMessagesInput,
  limit: number,
  after: Position | undefined,
): { text: string; values: unknown[] } {
  const { values, bind } = bindings();
  const tsquery = `websearch_to_tsquery('simple', ${bind(input.query)})`;
  const conditions = [
    `x.search_vector @@ q.query`,
    'm.deleted_at is null',
    's.deleted_at is null',
    ownedBy('s', owner, bind),
    ...filtersOf(input, bind),
  ];
  const cursor =
    after === undefined ? '' : `where (ranked.rank, ranked.id) < (${bind(after.rank)}::real, ${bind(after.id)}::uuid)`;
  const text = `
    with q as (select ${tsquery} as query),
    ranked as (
      select m.id, ts_rank(x.search_vector, q.query) as rank
        from q
        join chat_message_search x on true
        join chat_messages m on m.id = x.message_id
        join chat_sessions s on s.id = m.session_id
       where ${conditions.join(' and ')}
    ),
    hits as (select * from ranked ${cursor} order by rank desc, id desc limit ${bind(limit + 1)})
    select ${MESSAGE_COLUMNS}, hits.rank::text as rank_key,
           ts_headline('simple', left(m.content, ${bind(SNIPPET_SOURCE_CHARS)}), q.query,
                       'MaxFragments=2, MaxWords=24, MinWords=8, StartSel=«, StopSel=», FragmentDelimiter=" … "') as snippet
      from hits
      join chat_messages m on m.id = hits.id
      cross join q
     order by hits.rank desc, hits.id desc`;
  return { text, values };
}

/** `ts_headline` parses the whole text it is given; a snippet comes from the message's beginning. */
const SNIPPET_SOURCE_CHARS = 65_536;

/** What a cursor is bound to: its owner, query and filters (not the page size, which may change). */
function bindingOf(owner: Owner, input: TSearchMessagesInput): string {
  const ownerKey = owner.userId !== undefined ? `user:${owner.userId}` : `anonymous:${owner.anonymousId}`;
  return JSON.stringify([ownerKey, input.query, input.sessionId ?? null, input.role ?? null, input.chapter ?? null]);
}

/**
 * base64url JSON of the position and a digest of it with its binding. Not a secret (every search
 * is scoped to its owner): it turns a cursor of another search, or an edited one, into a clear
 * BAD_REQUEST instead of a silently wrong page.
 */
function digestOf(position: Position, binding: string): string {
  return createHash('sha256')
    .update(JSON.stringify([binding, position.rank, position.id]))
    .digest('base64url')
    .slice(0, 22);
}

function encodeCursor(position: Position, binding: string): string {
  return Buffer.from(JSON.stringify({ r: position.rank, id: position.id, d: digestOf(position, binding) })).toString(
    'base64url',
  );
}

const ZCursorBody = z.object({
  r: z.string().regex(/^-?\d+(\.\d+)?(e-?\d+)?$/),
  id: z.uuid(),
  d: z.string(),
});

function decodeCursor(cursor: string, binding: string): Position {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    body = null;
  }
  const parsed = ZCursorBody.safeParse(body);
  if (!parsed.success || parsed.data.d !== digestOf({ rank: parsed.data.r, id: parsed.data.id }, binding)) {
    throw new DomainError(
      'BAD_REQUEST',
      'this cursor does not belong to this search: pass back the nextCursor of the previous page, with the same query and filters',
      { field: 'cursor' },
    );
  }
  return { rank: parsed.data.r, id: parsed.data.id };
}
