import { TRPCError } from '@trpc/server';
import { expect } from 'vitest';

/**
 * Search queries meant to break a search: empty, 10k characters, NUL, broken Unicode, unbalanced
 * quotes, only stop words, only operators, tsquery and SQL syntax. knowledge.search,
 * memories.search and messages.search each run all of them, with and without `prefix`.
 */
export const HOSTILE_QUERIES = [
  '',
  ' ',
  'x'.repeat(10_000),
  'x'.repeat(10_001),
  'a\u0000b',
  '"unbalanced',
  'unbalanced"',
  '""""',
  'the and of to',
  '-',
  '--',
  '-only',
  'OR',
  'OR OR OR',
  '!!!(((',
  '& | ! ( ) :* <->',
  "'; drop table knowledge_entries; --",
  'a:*',
  'a & b | !c <-> d',
  '\\',
  '\ud800',
  '😀 🚀',
  'ÄÖÜ ß',
  Array.from({ length: 200 }, (_, i) => `w${i}`).join(' '),
];

/** Runs `search` with every hostile query: each gives a page of results or a BAD_REQUEST, nothing else. */
export async function expectResultsOrBadRequest(
  search: (query: string, prefix: boolean) => Promise<{ items: unknown[] }>,
): Promise<void> {
  for (const query of HOSTILE_QUERIES) {
    for (const prefix of [false, true]) {
      const label = `${JSON.stringify(query.slice(0, 40))} (prefix ${prefix})`;
      try {
        expect(Array.isArray((await search(query, prefix)).items), label).toBe(true);
      } catch (error) {
        expect(error, label).toBeInstanceOf(TRPCError);
        expect((error as TRPCError).code, label).toBe('BAD_REQUEST');
      }
    }
  }
}
