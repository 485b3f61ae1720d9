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
 */
export const touchUpdatedAt = () => ({
  // MikroORM names the trigger's function `<table>_touch_updated_at_fn`.
  name: 'touch_updated_at',
  timing: 'before' as const,
  events: ['update' as const],
  forEach: 'row' as const,
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
