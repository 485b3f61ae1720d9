import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { useTestDatabase } from '@threadstore/db/testing';
import { DomainError } from '../errors.ts';
import { query as sqlQuery, bindings } from '../messages/sql.ts';
import {
  anyWordTsQueryText,
  MAX_QUERY_CHARS,
  parseSearchQuery,
  SEARCH_LANGUAGES,
  tsQuerySql,
  tsQueryText,
} from './query.ts';

const text = (query: string, prefix = false) => tsQueryText(parseSearchQuery(query, { prefix }));

function refusal(query: string): DomainError {
  try {
    parseSearchQuery(query);
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(query)}`);
}

describe('web-search syntax to tsquery text', () => {
  it('requires every word, keeps phrases in order, ORs alternatives, negates exclusions', () => {
    expect(text('lisbon office')).toBe('lisbon & office');
    expect(text('"new office" lisbon')).toBe('(new <-> office) & lisbon');
    expect(text('lisbon OR porto office')).toBe('(lisbon | porto) & office');
    expect(text('office -lisbon -"old town"')).toBe('office & !lisbon & !(old <-> town)');
    expect(text('a OR b OR "c d"')).toBe('(a | b | (c <-> d))');
  });

  it('matches the last word as a prefix only while it is being typed', () => {
    expect(text('quarterly pla', true)).toBe('quarterly & pla:*');
    expect(text('quarterly pla ', true)).toBe('quarterly & pla');
    expect(text('"quarterly pla"', true)).toBe('(quarterly <-> pla)');
    expect(text('quarterly pla')).toBe('quarterly & pla');
  });

  it('turns free text into an any-word query without refusing anything', () => {
    expect(anyWordTsQueryText('Coffee, coffee & "tea"! -milk \u0000 x')).toBe('coffee | tea | milk | x');
    expect(anyWordTsQueryText('... !!!')).toBe('');
    expect(anyWordTsQueryText('a b c', 2)).toBe('a | b');
  });

  it('treats tsquery operators and stray quotes as separators, and an open quote as a phrase to the end', () => {
    expect(text("it's (a) <test> & x|y !z :* \\")).toBe(
      '(it <-> s) & a & test & x <-> y & z'.replace('x <-> y', '(x <-> y)'),
    );
    expect(text('"unbalanced quote here')).toBe('(unbalanced <-> quote <-> here)');
    expect(text('OR leading OR OR trailing OR')).toBe('(leading | trailing)');
    expect(text('-"" word')).toBe('word');
  });

  it('refuses what cannot be searched with a BAD_REQUEST naming the field', () => {
    for (const query of [
      '',
      '   ',
      '!!! ...',
      '-only -exclusions',
      'a\u0000b',
      '\ud800',
      'x'.repeat(MAX_QUERY_CHARS + 1),
    ]) {
      const error = refusal(query);
      expect(error.code, JSON.stringify(query)).toBe('BAD_REQUEST');
      expect(error.details).toMatchObject({ field: 'query' });
    }
    expect(refusal(Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ')).details).toMatchObject({
      limit: 'maxQueryTerms',
    });
  });
});

describe('the tsquery text in PostgreSQL', () => {
  const testDb = useTestDatabase();

  async function run(language: (typeof SEARCH_LANGUAGES)[number], queryText: string, document: string) {
    const { values, bind } = bindings();
    const tsquery = tsQuerySql(language, bind, queryText);
    const [row] = await sqlQuery<{ q: string; hit: boolean }>(
      testDb.orm.em.fork(),
      `select ${tsquery}::text as q, to_tsvector('${language}'::regconfig, ${bind(document)}) @@ ${tsquery} as hit`,
      values,
    );
    return row!;
  }

  it('stems per language and keeps phrase distances across stop words', async () => {
    expect((await run('english', text('running'), 'she runs daily')).hit).toBe(true);
    expect((await run('simple', text('running'), 'she runs daily')).hit).toBe(false);
    expect((await run('portuguese', text('escritórios'), 'o escritório novo')).hit).toBe(true);
    expect((await run('english', text('"cat the sat"'), 'the cat the sat')).hit).toBe(true);
    expect((await run('english', text('"cat sat"'), 'the cat the sat')).hit).toBe(false);
    expect((await run('english', text('lisb', true), 'Lisbon office')).hit).toBe(true);
  });

  it('finds nothing, without an error, for a query of stop words only', async () => {
    expect(await run('english', text('the and of'), 'the and of')).toEqual({ q: '', hit: false });
  });

  it('always yields a tsquery PostgreSQL accepts, whatever the input', async () => {
    const em = testDb.orm.em.fork();
    await fc.assert(
      fc.asyncProperty(
        fc.string({
          unit: fc.constantFrom(
            'a',
            'é',
            ' ',
            '"',
            '-',
            'O',
            'R',
            '&',
            '|',
            '!',
            '(',
            ')',
            ':',
            '*',
            "'",
            '\\',
            '<',
            '>',
            '1',
            '.',
            '\u00a0',
            '😀',
          ),
          maxLength: 60,
        }),
        fc.boolean(),
        fc.constantFrom(...SEARCH_LANGUAGES),
        async (input, prefix, language) => {
          let queryText: string;
          try {
            queryText = tsQueryText(parseSearchQuery(input, { prefix }));
          } catch (error) {
            expect(error).toBeInstanceOf(DomainError);
            expect((error as DomainError).code).toBe('BAD_REQUEST');
            return;
          }
          const { values, bind } = bindings();
          await sqlQuery(em, `select ${tsQuerySql(language, bind, queryText)}::text`, values);
        },
      ),
      { numRuns: 300 },
    );
  });
});
