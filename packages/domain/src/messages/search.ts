import type { ContentLimits, TSearchMessagesInput, TSearchMessagesOutput } from '@threadstore/contract';
import type { EntityManager } from '@threadstore/db';
import { notFound } from '../errors.ts';
import { decodeCursor, encodeCursor, pageSize } from '../paging.ts';
import type { Owner } from '../principal.ts';
import { parseSearchQuery, RANK_CURSOR_KEY, tsQuerySql, tsQueryText } from '../search/query.ts';
import { MESSAGE_COLUMNS, toMessage, type MessageRow } from './rows.ts';
import { bindings, ownedBy, query } from './sql.ts';

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
  const statement = messageSearchStatement(owner, input, limit);
  const rows = await query<MessageHitRow>(em, statement.text, statement.values);
  // A session or project that is not the caller's answers like one that does not exist, not like
  // one without a match.
  if (rows.length === 0 && (input.sessionId !== undefined || input.projectId !== undefined)) {
    await assertVisibleScope(em, owner, input);
  }
  return messageSearchPage(rows, limit, statement.binding);
}

async function assertVisibleScope(em: EntityManager, owner: Owner, input: TSearchMessagesInput): Promise<void> {
  const { values, bind } = bindings();
  const checks = [
    ...(input.sessionId === undefined
      ? []
      : [
          `(select count(*) from chat_sessions s where s.id = ${bind(input.sessionId)} and s.deleted_at is null and ${ownedBy('s', owner, bind)}) as session`,
        ]),
    ...(input.projectId === undefined
      ? []
      : [
          // Projects belong to signed-in users only: for an anonymous owner no project is theirs.
          `(select count(*) from projects p where p.id = ${bind(input.projectId)} and p.deleted_at is null and p.owner_id = ${bind(owner.userId ?? null)}::uuid) as project`,
        ]),
  ];
  const [found] = await query<{ session?: string; project?: string }>(em, `select ${checks.join(', ')}`, values);
  if (found?.session === '0') throw notFound('session');
  if (found?.project === '0') throw notFound('project');
}

export type MessageHitRow = MessageRow & { rank_key: string; snippet: string };

export function messageSearchPage(rows: MessageHitRow[], limit: number, binding: string): TSearchMessagesOutput {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map((row) => ({ message: toMessage(row), rank: Number(row.rank_key), snippet: row.snippet })),
    nextCursor: rows.length > limit && last ? encodeCursor({ key: last.rank_key, id: last.id }, binding) : null,
  };
}

/**
 * The most matches one search ranks. `ts_rank` reads each match's whole vector, so ranking every
 * match of a common word over an account of 100k messages would cost more than all the rest of
 * the search; beyond this many, the newest matches are ranked (a word that common says little, and
 * the newest conversations are the likeliest target). Filters narrow the set before the cap.
 */
export const MAX_RANKED_MESSAGES = 2_000;

/**
 * The one statement of a search (also run by the benchmark's bare-pg baseline):
 *  - `owned`: the caller's visible sessions (narrowed to one session or project when asked);
 *  - `found`: the messages the GIN index finds for the query (ids only);
 *  - `matches`: those in an owned session whose message is visible and passes the filters, at
 *    most MAX_RANKED_MESSAGES, the newest;
 *  - `ranked`: their `ts_rank`, computed once, reading each one's vector;
 *  - `hits`: the page after the cursor (`limit + 1`, the extra one saying whether more follow),
 *    compared as a (rank, id) row;
 *  - the outer SELECT reads the page's messages and runs `ts_headline`, which re-parses a
 *    message's text, for those rows only.
 * The query text is parsed by the shared web-search parser (BAD_REQUEST for an unsearchable
 * query) and bound; messages are indexed in the `simple` configuration.
 */
export function messageSearchStatement(
  owner: Owner,
  input: TSearchMessagesInput,
  limit: number,
): { text: string; values: unknown[]; binding: string } {
  const queryText = tsQueryText(parseSearchQuery(input.query, { prefix: input.prefix }));
  const { cursor: _, limit: __, ...listing } = input;
  const ownerKey = owner.userId !== undefined ? `user:${owner.userId}` : `anonymous:${owner.anonymousId}`;
  const binding = JSON.stringify(['messages.search', ownerKey, listing]);
  const after = input.cursor === undefined ? undefined : decodeCursor(input.cursor, binding, RANK_CURSOR_KEY);

  const { values, bind } = bindings();
  const tsquery = tsQuerySql('simple', bind, queryText);
  const messageFilters = [
    ...(input.role === undefined ? [] : [`m.role = ${bind(input.role)}`]),
    ...(input.chapter === undefined ? [] : [`m.chapter = ${bind(input.chapter)}`]),
    ...(input.createdAfter === undefined ? [] : [`m.created_at >= ${bind(input.createdAfter)}::timestamptz`]),
    ...(input.createdBefore === undefined ? [] : [`m.created_at < ${bind(input.createdBefore)}::timestamptz`]),
  ];
  const sessionFilters = [
    ...(input.sessionId === undefined ? [] : [`s.id = ${bind(input.sessionId)}`]),
    ...(input.projectId === undefined ? [] : [`s.project_id = ${bind(input.projectId)}`]),
  ];
  const cursor =
    after === undefined ? '' : `where (ranked.rank, ranked.id) < (${bind(after.key)}::real, ${bind(after.id)}::uuid)`;
  // `owned` and `found` are materialized so each runs once: left to itself, the planner probed the
  // GIN index once per session of the owner (100 scans of the whole word's entries for 100
  // sessions, a second for a common word).
  const text = `
    with owned as materialized (
      select s.id from chat_sessions s
       where s.deleted_at is null and ${ownedBy('s', owner, bind)}${sessionFilters.map((filter) => ` and ${filter}`).join('')}
    ),
    found as materialized (
      select x.message_id, x.session_id
        from chat_message_search x
       where x.search_vector @@ ${tsquery}${input.sessionId === undefined ? '' : ` and x.session_id = ${bind(input.sessionId)}`}
    ),
    matches as materialized (
      select m.id
        from found
        join owned on owned.id = found.session_id
        join chat_messages m on m.id = found.message_id
       where m.deleted_at is null${messageFilters.map((filter) => ` and ${filter}`).join('')}
       order by m.created_at desc, m.id desc
       limit ${bind(MAX_RANKED_MESSAGES)}
    ),
    -- Vectors are read for the ranked matches only: carried through found, the vector of every
    -- match of the query among all owners would be read.
    ranked as (
      select matches.id, ts_rank(x.search_vector, ${tsquery}) as rank
        from matches join chat_message_search x on x.message_id = matches.id
    ),
    hits as (select * from ranked ${cursor} order by rank desc, id desc limit ${bind(limit + 1)})
    select ${MESSAGE_COLUMNS}, hits.rank::text as rank_key,
           ts_headline('simple'::regconfig, left(m.content, ${bind(SNIPPET_SOURCE_CHARS)}), ${tsquery},
                       'MaxFragments=2, MaxWords=24, MinWords=8, StartSel=«, StopSel=», FragmentDelimiter=" … "') as snippet
      from hits
      join chat_messages m on m.id = hits.id
     order by hits.rank desc, hits.id desc`;
  return { text, values, binding };
}

/** `ts_headline` parses the whole text it is given; a snippet comes from the message's beginning. */
const SNIPPET_SOURCE_CHARS = 65_536;
