import { TEXT_SEARCH_LANGUAGES, type TextSearchLanguage } from '@threadstore/db';
import type { Bind } from '../messages/sql.ts';
import type { Chunk } from './chunks.ts';

/**
 * The knowledge base's SQL that the ORM cannot express: full-text slices and ranked search.
 * Every value is a bound parameter; the only text written into SQL is a text search
 * configuration from the closed list TEXT_SEARCH_LANGUAGES (a constant configuration lets the
 * planner fold `to_tsquery` into a constant, which the GIN index needs).
 */

/**
 * Columns of an entry as summaries carry them (no body: a 5 MB body stays in the database). The
 * body's length comes from its last slice (where it starts plus its length, by the primary key):
 * `length(e.content)` would read, and count the characters of, the whole body.
 */
export const SUMMARY_COLUMNS = `e.id, e.project_id, e.title, e.tags, e.language, e.source_type, e.source_url, e.client_key,
  e.metadata, (select c.start_char + c.length_chars from knowledge_chunks c where c.entry_id = e.id
                order by c.ordinal desc limit 1) as content_length, e.version, e.created_at, e.updated_at`;

export interface SummaryRow {
  id: string;
  project_id: string | null;
  title: string;
  tags: string[];
  language: TextSearchLanguage;
  source_type: 'url' | 'pdf' | 'text' | 'file';
  source_url: string | null;
  client_key: string | null;
  metadata: Record<string, unknown>;
  content_length: number;
  version: number;
  created_at: Date;
  updated_at: Date;
}

/**
 * Writes the full-text slices of an entry: the title (weight A) rides in the first slice, the
 * body's words weigh D, so a title match outranks body matches. Run DELETE_CHUNKS first when the
 * entry had slices (a separate statement: a CTE's delete and the insert would race on the key). Slices are at most KNOWLEDGE_CHUNK_CHARS long, so no tsvector comes near
 * PostgreSQL's 1 MB limit (error 54000) and no part of a long body goes unindexed.
 */
export function writeChunks(
  bind: Bind,
  entry: { id: string; ownerId: string; projectId: string | null; language: TextSearchLanguage; title: string },
  chunks: Chunk[],
): string {
  const config = `'${entry.language}'::regconfig`;
  const id = bind(entry.id);
  return `insert into knowledge_chunks (entry_id, ordinal, owner_id, project_id, language, start_char, length_chars, search_vector)
    select ${id}, c.ordinal - 1, ${bind(entry.ownerId)}, ${bind(entry.projectId)}, ${bind(entry.language)},
           c.start_char, c.length_chars,
           case when c.ordinal = 1 then setweight(to_tsvector(${config}, ${bind(entry.title)}), 'A') else ''::tsvector end
           || setweight(to_tsvector(${config}, c.body), 'D')
      from unnest(${bind(chunks.map((chunk) => chunk.text))}::text[], ${bind(chunks.map((chunk) => chunk.startChar))}::int[],
                  ${bind(chunks.map((chunk) => chunk.lengthChars))}::int[]) with ordinality as c(body, start_char, length_chars, ordinal)`;
}

export const DELETE_CHUNKS = 'delete from knowledge_chunks where entry_id = $1';

/** A tsquery in the configuration of the row's language, for ranking (`language` is a column). */
export function tsQueryByLanguage(languageColumn: string, bind: Bind, queryText: string): string {
  const text = bind(queryText);
  const branches = TEXT_SEARCH_LANGUAGES.map(
    (language) => `when '${language}' then to_tsquery('${language}'::regconfig, ${text})`,
  );
  return `case ${languageColumn} ${branches.join(' ')} end`;
}

/**
 * "`vector` matches the query in its row's language", as one branch per language, each a
 * comparison with a constant tsquery: the GIN index on the vector serves every branch (a CASE
 * inside the @@ would hide the constant and force a scan).
 */
export function matchesByLanguage(
  languageColumn: string,
  vectorColumn: string,
  bind: Bind,
  queryText: string,
  languages: readonly TextSearchLanguage[],
): string {
  const text = bind(queryText);
  return `(${languages
    .map(
      (language) =>
        `(${languageColumn} = '${language}' and ${vectorColumn} @@ to_tsquery('${language}'::regconfig, ${text}))`,
    )
    .join(' or ')})`;
}

/** Markers around matched words in snippets; the domain escapes the rest and turns them into <b>…</b>. */
export const SNIPPET_START_CHAR = '\u0001';
export const SNIPPET_STOP_CHAR = '\u0002';

/**
 * The highlighted passage of a slice, for the rows of one page only: ts_headline re-parses the
 * text, so running it over a whole match set (or a whole 5 MB body) would cost more than the search.
 */
export function headlineSql(languageColumn: string, textSql: string, bind: Bind, queryText: string): string {
  const options = bind(
    `StartSel=${SNIPPET_START_CHAR}, StopSel=${SNIPPET_STOP_CHAR}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "`,
  );
  const text = bind(queryText);
  const branches = TEXT_SEARCH_LANGUAGES.map(
    (language) =>
      `when '${language}' then ts_headline('${language}'::regconfig, ${textSql}, to_tsquery('${language}'::regconfig, ${text}), ${options})`,
  );
  return `case ${languageColumn} ${branches.join(' ')} end`;
}
