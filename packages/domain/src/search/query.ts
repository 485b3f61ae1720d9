import { TEXT_SEARCH_LANGUAGES, type TextSearchLanguage } from '@threadstore/db';
import { DomainError } from '../errors.ts';

/**
 * The query syntax people know from web search engines, turned into PostgreSQL full-text search:
 *
 * - words are all required: `lisbon office` finds texts with both;
 * - `"quoted words"` must appear in that order, next to each other (stop words keep their place);
 * - `OR` between two words or phrases accepts either: `lisbon OR porto office`;
 * - `-word` or `-"a phrase"` excludes texts that contain it;
 * - with `prefix`, the last word also matches words it begins (as-you-type: `lisb` finds Lisbon),
 *   unless the query ends with a space or a closing quote.
 *
 * Anything else is text: operators of PostgreSQL's own tsquery syntax (`& | ! ( ) < > : * \`)
 * are separators here, so no input can produce a tsquery syntax error. An unbalanced quote runs
 * to the end of the query. What cannot be searched (nothing but punctuation, only exclusions)
 * is a clear BAD_REQUEST; a query of nothing but stop words is valid and finds nothing.
 *
 * The result is the text of a `to_tsquery` call (`tsQueryText`), which then applies the text
 * search configuration's stemming and stop words: `to_tsquery('english', $1)`. Build the SQL
 * with `tsQuerySql`, which binds the text and names the configuration from a closed list.
 */

/** The text search configurations entries and memories can be written in. */
export const SEARCH_LANGUAGES = TEXT_SEARCH_LANGUAGES;
export type SearchLanguage = TextSearchLanguage;

/** Longest query accepted, in characters; longer is a BAD_REQUEST. */
export const MAX_QUERY_CHARS = 1_000;
/** Most words and phrases in one query. */
export const MAX_QUERY_TERMS = 32;

/**
 * A rank as PostgreSQL prints a real (shortest exact text), the key of a search's keyset cursor:
 * compared back as `$n::real`, it repeats the rank bit for bit.
 */
export const RANK_CURSOR_KEY = /^-?(\d+(\.\d+)?(e[-+]?\d+)?|0)$/;

/** A word or a phrase (several words in order). */
export interface SearchTerm {
  words: string[];
  phrase: boolean;
  /** Matches words beginning with the (single) word. */
  prefix: boolean;
}

/** Texts must match one of `anyOf` (an OR group), or must match none of them when `exclude`. */
export interface SearchClause {
  anyOf: SearchTerm[];
  exclude: boolean;
}

/** A parsed query: every clause must hold. */
export interface SearchQuery {
  clauses: SearchClause[];
}

export interface ParseOptions {
  /** The last bare word matches as a prefix (as-you-type). Default false. */
  prefix?: boolean;
}

/** Characters that are operators in tsquery syntax, quotes, or control characters: separators in a word. */
const SEPARATORS = /[\s&|!()<>:*\\'"\p{Cc}\u2018\u2019\u201c\u201d]+/u;
/** A word must hold at least one letter or digit to be searchable. */
const SEARCHABLE = /[\p{L}\p{N}]/u;

interface Token {
  kind: 'word' | 'phrase' | 'or';
  text: string;
  negated: boolean;
}

function refuse(message: string, details?: Record<string, unknown>): never {
  throw new DomainError('BAD_REQUEST', message, { field: 'query', ...details });
}

/** Splits the raw text into words, phrases and OR, keeping quotes and leading minus signs. */
function tokenize(text: string): { tokens: Token[]; endsOpen: boolean } {
  const tokens: Token[] = [];
  let i = 0;
  let endsOpen = false;
  while (i < text.length) {
    const char = text[i]!;
    if (/\s/u.test(char)) {
      i += 1;
      continue;
    }
    let negated = false;
    let start = i;
    if (char === '-' && i + 1 < text.length && !/\s/u.test(text[i + 1]!)) {
      negated = true;
      start = i + 1;
    }
    if (text[start] === '"') {
      const close = text.indexOf('"', start + 1);
      const end = close === -1 ? text.length : close;
      tokens.push({ kind: 'phrase', text: text.slice(start + 1, end), negated });
      i = close === -1 ? text.length : close + 1;
      endsOpen = false;
      continue;
    }
    let end = start;
    while (end < text.length && !/\s/u.test(text[end]!) && text[end] !== '"') end += 1;
    const word = text.slice(start, end);
    tokens.push({ kind: word === 'OR' && !negated ? 'or' : 'word', text: word, negated });
    i = end;
    endsOpen = end === text.length;
  }
  return { tokens, endsOpen };
}

/**
 * The searchable words of `text`: split at separators, punctuation trimmed from their ends
 * ("office?" is "office"), those with a letter or digit kept.
 */
function wordsOf(text: string): string[] {
  return text
    .split(SEPARATORS)
    .map((word) => word.replace(/^[\p{P}\p{S}]+|[\p{P}\p{S}]+$/gu, ''))
    .filter((word) => SEARCHABLE.test(word));
}

/**
 * Parses web-search syntax. Throws a BAD_REQUEST DomainError (field `query`) for a query that
 * is empty, too long, holds a NUL or broken Unicode, has too many terms, or only excludes.
 */
export function parseSearchQuery(text: string, { prefix = false }: ParseOptions = {}): SearchQuery {
  if (text.length > MAX_QUERY_CHARS) {
    refuse(`a search query holds at most ${MAX_QUERY_CHARS} characters`, {
      limit: 'maxQueryChars',
      max: MAX_QUERY_CHARS,
    });
  }
  if (text.includes('\0') || !text.isWellFormed()) refuse('a search query must be well-formed text without NUL');
  const { tokens, endsOpen } = tokenize(text);

  const clauses: SearchClause[] = [];
  let pendingOr = false;
  let terms = 0;
  for (const token of tokens) {
    if (token.kind === 'or') {
      // OR joins the previous clause to the next; a leading or doubled OR is just ignored.
      pendingOr = clauses.length > 0 && !clauses.at(-1)!.exclude;
      continue;
    }
    const words = wordsOf(token.text);
    if (words.length === 0) continue;
    const term: SearchTerm = { words, phrase: token.kind === 'phrase' || words.length > 1, prefix: false };
    terms += 1;
    if (terms > MAX_QUERY_TERMS) {
      refuse(`a search query holds at most ${MAX_QUERY_TERMS} words and phrases`, {
        limit: 'maxQueryTerms',
        max: MAX_QUERY_TERMS,
      });
    }
    if (pendingOr && !token.negated) clauses.at(-1)!.anyOf.push(term);
    else clauses.push({ anyOf: [term], exclude: token.negated });
    pendingOr = false;
  }
  if (clauses.length === 0) refuse('nothing to search for: give at least one word');
  if (clauses.every((clause) => clause.exclude)) {
    refuse('a search needs at least one word that is not excluded (-word only removes matches)');
  }

  // As-you-type: the word being typed is the last one, if the query does not end after it.
  const lastToken = tokens.at(-1);
  const last = clauses.at(-1)!.anyOf.at(-1)!;
  if (prefix && endsOpen && lastToken?.kind === 'word' && !last.phrase) last.prefix = true;
  return { clauses };
}

function termText(term: SearchTerm): string {
  const text = term.words.join(' <-> ');
  if (term.prefix) return `${text}:*`;
  return term.words.length > 1 ? `(${text})` : text;
}

/**
 * The query as `to_tsquery` text. Words hold no tsquery operator (they were separators), so
 * the text always parses; `to_tsquery` then stems each word and drops stop words.
 */
export function tsQueryText(query: SearchQuery): string {
  return query.clauses
    .map((clause) => {
      const any = clause.anyOf.map(termText);
      const group = any.length > 1 ? `(${any.join(' | ')})` : any[0]!;
      return clause.exclude ? `!${group}` : group;
    })
    .join(' & ');
}

/**
 * Free text (a prompt, a message) as a tsquery that matches any of its words, for ranking by
 * overlap rather than filtering: no syntax, no refusal. The first `maxWords` distinct words
 * count; '' when there are none.
 */
export function anyWordTsQueryText(text: string, maxWords = 64): string {
  const words = new Set(wordsOf(text.toWellFormed()).map((word) => word.toLowerCase()));
  return [...words].slice(0, maxWords).join(' | ');
}

/**
 * SQL for the tsquery of `text` in `language`: `to_tsquery('english'::regconfig, $n)`. The
 * configuration comes from SEARCH_LANGUAGES only, so it is a literal: with a constant
 * configuration and a bound text, the planner folds the call into a constant and can use a GIN
 * index on the tsvector column.
 */
export function tsQuerySql(language: SearchLanguage, bind: (value: unknown) => string, text: string): string {
  if (!SEARCH_LANGUAGES.includes(language)) throw new Error(`unknown search language ${String(language)}`);
  return `to_tsquery('${language}'::regconfig, ${bind(text)})`;
}
