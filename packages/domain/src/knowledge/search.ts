import type { ContentLimits, TKnowledgeSearchPage, TSearchKnowledgeInput } from '@threadstore/contract';
import { TEXT_SEARCH_LANGUAGES, type EntityManager } from '@threadstore/db';
import { bindings, query } from '../messages/sql.ts';
import { decodeCursor, encodeCursor, pageSize } from '../paging.ts';
import type { Principal } from '../principal.ts';
import { userIdOf } from '../projects/access.ts';
import { parseSearchQuery, RANK_CURSOR_KEY, tsQueryText } from '../search/query.ts';
import { entryFilters, toSummary } from './entries.ts';
import {
  headlineSql,
  matchesByLanguage,
  SNIPPET_START_CHAR,
  SNIPPET_STOP_CHAR,
  SUMMARY_COLUMNS,
  tsQueryByLanguage,
  type SummaryRow,
} from './sql.ts';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** ts_headline's text with markup escaped and its match markers turned into <b>…</b>. */
function snippetHtml(headline: string): string {
  return headline
    .replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!)
    .replaceAll(SNIPPET_START_CHAR, '<b>')
    .replaceAll(SNIPPET_STOP_CHAR, '</b>');
}

/**
 * Ranked full-text search over the caller's knowledge base, in web-search syntax, each entry in
 * its own language's stemming. An entry's rank is that of its best slice (the title is in the
 * first, weighted A against the body's D). Pages are keyset over (rank, id), so a page never
 * repeats or skips an entry; the snippet is computed only for the page's entries, from the
 * slice that matched best, never for the whole match set.
 */
export async function searchKnowledge(
  em: EntityManager,
  principal: Principal,
  input: TSearchKnowledgeInput,
  limits: ContentLimits,
): Promise<TKnowledgeSearchPage> {
  const size = pageSize(input.limit, limits);
  const statement = knowledgeSearchStatement(userIdOf(principal), input, size);
  const rows = await query<KnowledgeHitRow>(em, statement.text, statement.values);
  return knowledgeSearchPage(rows, size, statement.binding);
}

export type KnowledgeHitRow = SummaryRow & { rank: number; rank_key: string; snippet: string | null };

/**
 * The one statement of a search (also run by the benchmark's bare-pg baseline): the page plus
 * one row (to tell whether another follows), ranked, with snippets for those rows only.
 * Refuses an unsearchable query or a foreign cursor with BAD_REQUEST.
 */
export function knowledgeSearchStatement(
  owner: string,
  input: TSearchKnowledgeInput,
  size: number,
): { text: string; values: unknown[]; binding: string } {
  const queryText = tsQueryText(parseSearchQuery(input.query, { prefix: input.prefix }));
  const { cursor: _, limit: __, ...listing } = input;
  const binding = JSON.stringify(['knowledge.search', owner, listing]);
  const languages = input.language === undefined ? TEXT_SEARCH_LANGUAGES : [input.language];

  const { values, bind } = bindings();
  const chunkWhere = [
    `c.owner_id = ${bind(owner)}`,
    matchesByLanguage('c.language', 'c.search_vector', bind, queryText, languages),
    ...(input.projectId === undefined ? [] : [`c.project_id = ${bind(input.projectId)}`]),
  ];
  // A deleted entry has no slices (deleteKnowledge removes them in its transaction), so entries are
  // joined before the page only to filter by their columns: without such filters, the page comes
  // from the slices alone and only its rows are looked up (one index probe per match saved).
  const filters = entryFilters(bind, input);
  const pageWhere = [...filters];
  if (input.cursor !== undefined) {
    const after = decodeCursor(input.cursor, binding, RANK_CURSOR_KEY);
    pageWhere.push(`(m.rank, m.entry_id) < (${bind(after.key)}::real, ${bind(after.id)}::uuid)`);
  }
  const filteredBy =
    filters.length === 0 ? '' : 'join knowledge_entries e on e.id = m.entry_id and e.deleted_at is null';
  const text = `with matches as (
       select distinct on (c.entry_id) c.entry_id, c.start_char, c.length_chars,
              ts_rank(c.search_vector, ${tsQueryByLanguage('c.language', bind, queryText)}) as rank
         from knowledge_chunks c
        where ${chunkWhere.join(' and ')}
        order by c.entry_id, rank desc, c.ordinal
     ), page as (
       -- Only what ranking and filtering need: the summary and the snippet are computed for the
       -- page's rows alone, below.
       select m.entry_id as id, m.rank, m.start_char, m.length_chars
         from matches m ${filteredBy}
        ${pageWhere.length === 0 ? '' : `where ${pageWhere.join(' and ')}`}
        order by m.rank desc, m.entry_id desc
        limit ${bind(size + 1)}
     )
     select ${SUMMARY_COLUMNS}, page.rank, page.rank::text as rank_key,
            ${headlineSql('e.language', 'substr(e.content, page.start_char + 1, page.length_chars)', bind, queryText)} as snippet
       from page join knowledge_entries e on e.id = page.id and e.deleted_at is null
      order by page.rank desc, page.id desc`;
  return { text, values, binding };
}

export function knowledgeSearchPage(rows: KnowledgeHitRow[], size: number, binding: string): TKnowledgeSearchPage {
  const page = rows.slice(0, size);
  const last = page.at(-1);
  return {
    items: page.map((row) => ({
      entry: toSummary(row),
      rank: Number(row.rank),
      snippet: snippetHtml(row.snippet ?? ''),
    })),
    nextCursor:
      rows.length > size && last !== undefined ? encodeCursor({ key: last.rank_key, id: last.id }, binding) : null,
  };
}
