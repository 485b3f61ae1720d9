import { createHash } from 'node:crypto';
import type { EntityManager } from '@threadstore/db';
import { query } from '../messages/sql.ts';
import { hiddenColumns, readOwnership, type OwnedTable } from './ownership.ts';
import {
  BEGIN_EXPORT,
  CLAIMED_ANONYMOUS_IDS,
  CLOSE_EXPORT,
  COLUMNS,
  declareExportCursor,
  FETCH_EXPORT,
  EXPORTED_AUDIT_ROWS,
} from './sql.ts';

/**
 * The export format, one JSON object per line (NDJSON):
 *
 *   {"kind":"header","format":"threadstore.account-export","version":1,"exportedAt":…,"ownerId":…,"tables":[…]}
 *   {"kind":"row","table":"chat_sessions","row":{…}}          one per row, tables in `tables` order
 *   {"kind":"manifest","tables":{"chat_sessions":{"rows":12,"sha256":"…"}, …}}
 *
 * Rows are the tables' columns as PostgreSQL renders them in JSON, minus what is never exported:
 * columns the ORM hides (password and key hashes, request fingerprints, search vectors) and
 * values the database assigns (serial ids, transaction ids, generated columns). Ids are kept, so
 * an import elsewhere keeps every reference (a frontend's stored session id) working.
 *
 * A table's checksum is the SHA-256 of its row texts, each followed by a newline, with the
 * owner's id written as `$owner`: the same data owned by someone else (after an import into
 * another account) has the same checksums.
 */
export const EXPORT_FORMAT = 'threadstore.account-export';
export const EXPORT_VERSION = 1;
export const OWNER_PLACEHOLDER = '$owner';

/** The tables of an export, in order: the profile, what the user owns (parents first), their audit trail. */
export interface ExportPlan {
  tables: { name: string; where: string; orderBy: string[]; omit: string[] }[];
}

export async function exportPlan(em: EntityManager): Promise<ExportPlan> {
  const { tables } = await readOwnership(em);
  const columns = await query<{ table: string; column: string; generated: boolean; primary_key: boolean }>(
    em,
    COLUMNS,
    [],
  );
  const columnsOf = (name: string) => columns.filter((c) => c.table === name);
  const omitted = (name: string, hidden: string[]) => [
    ...new Set([
      ...hidden,
      ...columnsOf(name)
        .filter((c) => c.generated)
        .map((c) => c.column),
    ]),
  ];
  const keyOf = (name: string) => {
    const key = columnsOf(name).filter((c) => c.primary_key && !c.generated);
    // A serial key is not exported; its table is ordered by it all the same (insertion order).
    return (key.length > 0 ? key : columnsOf(name).filter((c) => c.primary_key)).map((c) => c.column);
  };
  const hiddenUsers = hiddenColumns(em).get('users') ?? [];
  return {
    tables: [
      {
        name: 'users',
        where: 't.id = $1 and $2::uuid[] is not null',
        orderBy: ['id'],
        omit: omitted('users', hiddenUsers),
      },
      ...tables.map((table: OwnedTable) => ({
        name: table.name,
        where: `(${table.owned}) and $1::uuid is not null and $2::uuid[] is not null`,
        orderBy: keyOf(table.name),
        omit: omitted(table.name, table.hidden),
      })),
      {
        name: 'audit_log',
        where: EXPORTED_AUDIT_ROWS,
        orderBy: ['id'],
        omit: omitted('audit_log', []),
      },
    ],
  };
}

interface PoolLike {
  connect(): Promise<{
    query<Row>(text: string, parameters?: unknown[]): Promise<{ rows: Row[] }>;
    release(error?: Error): void;
  }>;
}

/**
 * Everything `userId` owns, as NDJSON lines (each ending in a newline), read in one snapshot on a
 * connection of its own. Memory stays constant whatever the account's size.
 */
export async function* exportAccount(em: EntityManager, userId: string): AsyncGenerator<string> {
  const plan = await exportPlan(em);
  const anonymousIds = (await query<{ id: string }>(em, CLAIMED_ANONYMOUS_IDS, [userId])).map((row) => row.id);
  const pool = (await em.getConnection().getNativeClient()) as unknown as PoolLike;
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query(BEGIN_EXPORT);
    yield `${JSON.stringify({
      kind: 'header',
      format: EXPORT_FORMAT,
      version: EXPORT_VERSION,
      exportedAt: new Date().toISOString(),
      ownerId: userId,
      tables: plan.tables.map((table) => table.name),
    })}\n`;
    const manifest: Record<string, { rows: number; sha256: string }> = {};
    for (const table of plan.tables) {
      const hash = createHash('sha256');
      let rows = 0;
      await client.query(declareExportCursor(table.name, table.where, table.orderBy), [
        userId,
        anonymousIds.filter((id) => UUID.test(id)),
        table.omit,
      ]);
      const prefix = `{"kind":"row","table":${JSON.stringify(table.name)},"row":`;
      for (;;) {
        const { rows: page } = await client.query<{ row: string }>(FETCH_EXPORT);
        if (page.length === 0) break;
        // One hash update, one owner replacement and one join per page of 2,000 rows, not per row.
        const texts = page.map(({ row }) => row);
        hash.update(`${texts.join('\n').replaceAll(userId, OWNER_PLACEHOLDER)}\n`);
        const chunk = `${prefix}${texts.join(`}\n${prefix}`)}}\n`;
        rows += page.length;
        yield chunk;
      }
      await client.query(CLOSE_EXPORT);
      manifest[table.name] = { rows, sha256: hash.digest('hex') };
    }
    await client.query('commit');
    yield `${JSON.stringify({ kind: 'manifest', tables: manifest })}\n`;
  } catch (error) {
    broken = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    // A stream abandoned half-way (the client hung up) still ends its transaction: a connection
    // in a failed or open transaction is not handed back to the pool as if it were clean.
    if (broken === undefined) await client.query('rollback').catch(() => undefined);
    client.release(broken);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
