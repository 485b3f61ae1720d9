import { p } from '@mikro-orm/core';
import { uuidv7 } from '../ids.ts';

/**
 * Column builders shared by the entities, so every table spells its key and timestamps the same way.
 * Defaults exist both in the ORM (`onCreate`) and in the database (`defaultRaw`): the worker's bulk
 * SQL inserts rows without going through the ORM and must get the same values.
 */
export const uuidPrimaryKey = () =>
  p
    .uuid()
    .primary()
    .onCreate(() => uuidv7())
    .defaultRaw('gen_random_uuid()');

export const createdAt = () =>
  p
    .datetime()
    .onCreate(() => new Date())
    .defaultRaw('now()');

export const updatedAt = () =>
  p
    .datetime()
    .onCreate(() => new Date())
    .onUpdate(() => new Date())
    .defaultRaw('now()');

export const deletedAt = () => p.datetime().nullable();

/**
 * Keeps `updated_at` true for writes that bypass the ORM (bulk SQL in the worker, psql).
 * The ORM sets the column itself; the trigger only steps in when an UPDATE left it unchanged.
 * The WHEN clause says so to PostgreSQL, which then does not call the function at all for an
 * UPDATE that set the column (the ORM's, the message append's): no PL/pgSQL call per row.
 */
export const touchUpdatedAt = () => ({
  // MikroORM names the trigger's function `<table>_touch_updated_at_fn`.
  name: 'touch_updated_at',
  timing: 'before' as const,
  events: ['update' as const],
  forEach: 'row' as const,
  // `new.updated_at is not distinct from old.updated_at`, spelled as PostgreSQL prints it back,
  // which is what the schema diff compares.
  when: '(NOT (new.updated_at IS DISTINCT FROM old.updated_at))',
  body: 'if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new;',
});

/** A CHECK constraint with a name that says which table and rule it is, so violations are readable. */
export const check = (table: string, rule: string, expression: string) => ({
  name: `${table}_${rule}_check`,
  expression,
});

/**
 * The longest text fed to full-text indexing. A tsvector may not exceed 1 MB (error 54000), and
 * an INSERT that trips that limit would lose the whole row; indexing the first 256 Ki characters
 * keeps every message storable and searchable by its beginning.
 */
export const FTS_SOURCE_CHARS = 262_144;

/**
 * The text search configurations a knowledge entry or a memory can be written in: stemming and
 * stop words for English and Portuguese, and `simple` (lower-cased words, no stemming) for any
 * other language or none.
 */
export const TEXT_SEARCH_LANGUAGES = ['english', 'portuguese', 'simple'] as const;
export type TextSearchLanguage = (typeof TEXT_SEARCH_LANGUAGES)[number];

/**
 * SQL for the tsvector of `textSql` in the configuration named by the column `languageSql`.
 * A CASE over literal configurations keeps the expression immutable, so it can define a
 * generated column (a cast of the column to regconfig could not).
 */
export function tsVectorByLanguage(languageSql: string, textSql: string): string {
  const branches = TEXT_SEARCH_LANGUAGES.map(
    (language) => `when '${language}'::text then to_tsvector('${language}'::regconfig, ${textSql})`,
  );
  // The ELSE never applies (a CHECK constraint keeps the language in the list); it only keeps an
  // unknown language's row from failing NOT NULL before its CHECK can name the problem.
  return `case ${languageSql}::text ${branches.join(' ')} else to_tsvector('simple'::regconfig, ${textSql}) end`;
}
