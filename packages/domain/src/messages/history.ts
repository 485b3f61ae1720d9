import type { ContentLimits, TMessageHistory, TMessageHistoryInput } from '@threadstore/contract';
import type { EntityManager } from '@threadstore/db';
import { notFound } from '../errors.ts';
import { pageSize } from '../paging.ts';
import type { Owner } from '../principal.ts';
import { MESSAGE_COLUMNS, toMessage, type MessageRow } from './rows.ts';
import { bindings, ownedBy, query } from './sql.ts';

/**
 * One page of a session's visible messages, oldest first: the latest `limit`, those just
 * before `before`, or those just after `after`; optionally of one chapter.
 *
 * Keyset paging on the session's unique (session_id, seq) index, or (session_id, chapter, seq)
 * with a chapter: a page deep in a long session costs what the latest page costs, because the
 * index is entered at the cursor instead of counted through from the top (no OFFSET). One
 * statement (`historyStatement`) fetches `limit + 1` rows, the extra one answering "is there
 * more this way?", and for `before` / `after` whether anything lies the other way.
 */
export async function messageHistory(
  em: EntityManager,
  owner: Owner,
  input: TMessageHistoryInput,
  limits: ContentLimits,
): Promise<TMessageHistory> {
  const limit = pageSize(input.limit, limits);
  const statement = historyStatement(owner, input, limit);
  const rows = await query<(MessageRow | NoMessage) & { beyond: boolean }>(em, statement.text, statement.values);
  const [first] = rows;
  if (first === undefined) throw notFound('session');
  const found = rows.filter((row): row is MessageRow & { beyond: boolean } => row.id !== null);
  const more = found.length > limit;
  const page = found.slice(0, limit);
  const forward = input.after !== undefined;
  if (!forward) page.reverse();
  return {
    items: page.map(toMessage),
    hasOlder: forward ? first.beyond : more,
    hasNewer: forward ? more : first.beyond,
  };
}

/**
 * The page's one statement: `limit + 1` rows in the direction of reading (newest first unless
 * `after`), each with `beyond` (whether messages lie on the far side of the cursor: at or before
 * `after`, at or after `before`). The left join keeps the session's row when the page is empty,
 * so no row at all means no such session of the caller's. Exported so the benchmark's bare-`pg`
 * baseline runs exactly this SQL.
 */
export function historyStatement(
  owner: Owner,
  input: TMessageHistoryInput,
  limit: number,
): { text: string; values: unknown[] } {
  const forward = input.after !== undefined;
  const { values, bind } = bindings();
  const session = bind(input.sessionId);
  const visible = `m.session_id = ${session} and m.deleted_at is null${
    input.chapter === undefined ? '' : ` and m.chapter = ${bind(input.chapter)}`
  }`;
  const cursor = forward ? bind(input.after) : input.before === undefined ? null : bind(input.before);
  // Spelled as "the nearest seq beyond the cursor" rather than `exists (…)`: given EXISTS, the
  // planner may pick a sequential scan that stops at the first match, which in a long session
  // reads every row before the cursor; the ORDER BY … LIMIT 1 enters the index at the cursor.
  const beyond =
    cursor === null
      ? 'false'
      : `(select m.seq from chat_messages m where ${visible} and m.seq ${forward ? '<=' : '>='} ${cursor}
           order by m.seq ${forward ? 'desc' : 'asc'} limit 1) is not null`;
  const text = `
    select page.*, ${beyond} as beyond
      from chat_sessions s
      left join lateral (
        select ${MESSAGE_COLUMNS}
          from chat_messages m
         where ${visible}${cursor === null ? '' : ` and m.seq ${forward ? '>' : '<'} ${cursor}`}
         order by m.seq ${forward ? 'asc' : 'desc'}
         limit ${bind(limit + 1)}
      ) as page on true
     where s.id = ${session} and s.deleted_at is null and ${ownedBy('s', owner, bind)}
     order by page.seq ${forward ? 'asc' : 'desc'}`;
  return { text, values };
}

/** The row of a session whose page came out empty. */
type NoMessage = { [K in keyof MessageRow]: null };
