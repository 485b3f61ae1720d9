import type { EntityManager } from '@threadstore/db';
import { query } from '../messages/sql.ts';
import { COLUMNS, FOREIGN_KEYS, ident } from './sql.ts';

/**
 * What a user owns, read from the catalog: every table whose rows are deleted with the user by a
 * chain of ON DELETE CASCADE foreign keys (projects, sessions and through them messages, memories,
 * knowledge, API keys, the academy…), plus rows an anonymous visitor owned through an
 * `anonymous_id` column, for the anonymous ids the user claimed. A table another feature adds
 * with such a foreign key is owned, exported, imported and erased without touching this code.
 */

export interface Column {
  name: string;
  type: string;
  generated: boolean;
  required: boolean;
  primaryKey: boolean;
}

export interface OwnedTable {
  name: string;
  /** SQL condition over the table's own columns: the row belongs to the user ($1 user id, $2 claimed anonymous ids). */
  owned: string;
  /** Columns in catalog order. */
  columns: Column[];
  /** Columns whose foreign key points back into this same table (a memory superseded by another). */
  selfReferences: string[];
  /** Columns the ORM marks hidden (hashes, secrets, derived search vectors): never exported. */
  hidden: string[];
}

export interface Ownership {
  /** Parents before children: the order an import inserts in. An erasure deletes in reverse. */
  tables: OwnedTable[];
}

/** Tables whose rows hang off the user but are the administrators' decisions, not the user's data. */
const ADMINISTERED = new Set(['retention_policies']);

interface ForeignKey {
  child: string;
  column: string;
  parent: string;
  parent_column: string;
  on_delete: string;
}

interface CatalogColumn {
  table: string;
  column: string;
  type: string;
  generated: boolean;
  required: boolean;
  primary_key: boolean;
}

/** Reads the ownership graph from the catalog and the ORM's metadata (for hidden columns). */
export async function readOwnership(em: EntityManager): Promise<Ownership> {
  const [keys, columns] = await Promise.all([
    query<ForeignKey>(em, FOREIGN_KEYS, []),
    query<CatalogColumn>(em, COLUMNS, []),
  ]);
  const columnsOf = new Map<string, Column[]>();
  for (const c of columns) {
    const list = columnsOf.get(c.table) ?? [];
    list.push({
      name: c.column,
      type: c.type,
      generated: c.generated,
      required: c.required,
      primaryKey: c.primary_key,
    });
    columnsOf.set(c.table, list);
  }
  const hiddenOf = hiddenColumns(em);

  // Cascading edges child → parent. Owned: every table reachable from `users` against them.
  const cascades = keys.filter((key) => key.on_delete === 'c' && key.child !== key.parent);
  const owned: string[] = [];
  const reach = ['users'];
  while (reach.length > 0) {
    const table = reach.pop()!;
    for (const key of cascades.filter((k) => k.parent === table)) {
      if (key.child === 'users' || ADMINISTERED.has(key.child) || owned.includes(key.child)) continue;
      owned.push(key.child);
      reach.push(key.child);
    }
  }
  const hasAnonymousOwner = (table: string) =>
    columnsOf.get(table)?.some((c) => c.name === 'anonymous_id' && c.type === 'uuid') === true;
  // A row is the user's when any cascading path leads to them (academy conversations: by user
  // and by session), or, where rows can belong to an anonymous visitor, by a claimed anonymous id.
  const conditionOf = (table: string, seen: ReadonlySet<string>): string => {
    const paths = cascades
      .filter((k) => k.child === table && (k.parent === 'users' || owned.includes(k.parent)) && !seen.has(k.parent))
      .map((k) =>
        k.parent === 'users'
          ? `${ident(k.column)} = $1`
          : `${ident(k.column)} in (select ${ident(k.parent_column)} from ${ident(k.parent)} where ${conditionOf(
              k.parent,
              new Set([...seen, table]),
            )})`,
      );
    if (hasAnonymousOwner(table)) paths.push('anonymous_id = any($2::uuid[])');
    return paths.map((path) => `(${path})`).join(' or ');
  };
  const order: string[] = [];

  // Parents before children (Kahn over the foreign keys among owned tables).
  // Every foreign key counts here, cascading or not: a session's project must exist before it.
  const parentsOf = (table: string) =>
    keys.filter((k) => k.child === table && k.parent !== table && owned.includes(k.parent)).map((k) => k.parent);
  const placed = new Set<string>();
  while (order.length < owned.length) {
    const ready = owned.filter((t) => !placed.has(t) && parentsOf(t).every((p) => placed.has(p))).sort();
    if (ready.length === 0)
      throw new Error(`cycle among owned tables: ${owned.filter((t) => !placed.has(t)).join(', ')}`);
    for (const table of ready) {
      order.push(table);
      placed.add(table);
    }
  }

  return {
    tables: order.map((name) => ({
      name,
      owned: conditionOf(name, new Set()),
      columns: columnsOf.get(name) ?? [],
      selfReferences: keys.filter((k) => k.child === name && k.parent === name).map((k) => k.column),
      hidden: hiddenOf.get(name) ?? [],
    })),
  };
}

/** Per table, the columns the ORM marks hidden or lazy (hashes, secrets, search vectors). */
export function hiddenColumns(em: EntityManager): Map<string, string[]> {
  const all = em.getMetadata().getAll() as unknown;
  const metas = (all instanceof Map ? [...all.values()] : Object.values(all as object)) as {
    tableName: string;
    properties: Record<string, { hidden?: boolean; lazy?: boolean; fieldNames?: string[] }>;
  }[];
  const hidden = new Map<string, string[]>();
  for (const meta of metas) {
    const columns = Object.values(meta.properties)
      .filter((property) => property.hidden === true || property.lazy === true)
      .flatMap((property) => property.fieldNames ?? []);
    hidden.set(meta.tableName, [...(hidden.get(meta.tableName) ?? []), ...columns]);
  }
  return hidden;
}
