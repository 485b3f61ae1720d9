import { createHash } from 'node:crypto';
import {
  CheckConstraintViolationException,
  DriverException,
  ForeignKeyConstraintViolationException,
  UniqueConstraintViolationException,
  type EntityManager,
} from '@threadstore/db';
import * as z from 'zod';
import { recordAudit } from '../audit.ts';
import { DomainError } from '../errors.ts';
import { query } from '../messages/sql.ts';
import type { Actor } from '../principal.ts';
import { EXPORT_FORMAT, EXPORT_VERSION, exportPlan, OWNER_PLACEHOLDER } from './export.ts';
import { readOwnership } from './ownership.ts';
import { anyOwned, COLUMNS, insertRows } from './sql.ts';

const ZHeader = z.object({
  kind: z.literal('header'),
  format: z.literal(EXPORT_FORMAT),
  version: z.literal(EXPORT_VERSION),
  ownerId: z.uuid(),
  tables: z.array(z.string()),
});
const ZManifest = z.object({
  kind: z.literal('manifest'),
  tables: z.record(z.string(), z.object({ rows: z.number().int().min(0), sha256: z.string() })),
});

export interface ImportResult {
  /** Rows inserted per table. */
  imported: Record<string, number>;
  /** Rows read but not inserted, per table: the profile (the importing account has its own). */
  skipped: Record<string, number>;
}

const BATCH_ROWS = 1_000;

/**
 * Imports an export (NDJSON lines, as `exportAccount` writes them) into the caller's account,
 * which must own nothing yet. All or nothing, in one transaction; the rows keep their ids, so
 * every reference survives the move, and the exporter's id becomes the importer's. The file is
 * checked against its own manifest (counts and checksums): a truncated or edited export is
 * refused. Ids already present on this instance (importing a copy beside its still-existing
 * original) are a CONFLICT.
 */
export async function importAccount(
  em: EntityManager,
  actor: Actor,
  userId: string,
  lines: AsyncIterable<string>,
): Promise<ImportResult> {
  const { tables: owned } = await readOwnership(em);
  const plan = await exportPlan(em);
  const columns = await query<{ table: string; column: string; type: string; generated: boolean; required: boolean }>(
    em,
    COLUMNS,
    [],
  );
  const insertable = new Map<string, Set<string>>();
  for (const c of columns) {
    if (c.generated) continue;
    const set = insertable.get(c.table) ?? new Set<string>();
    set.add(c.column);
    insertable.set(c.table, set);
  }
  // A table can be imported when every column it requires is one an export carries, or a
  // secret (text) it never carries, which gets an unusable value.
  const unusable = new Map<string, string[]>();
  const importable = new Set<string>();
  for (const table of plan.tables) {
    if (table.name === 'users') continue;
    const missing = columns.filter((c) => c.table === table.name && c.required && table.omit.includes(c.column));
    if (missing.every((c) => /^(text|character varying)/.test(c.type))) {
      importable.add(table.name);
      unusable.set(
        table.name,
        missing.map((c) => c.column),
      );
    }
  }
  const known = new Set(plan.tables.map((table) => table.name));
  const selfReferences = new Map(owned.map((table) => [table.name, table.selfReferences]));

  try {
    return await em.transactional(async (tx) => {
      for (const table of owned) {
        const [row] = await query<{ found: boolean }>(
          tx,
          anyOwned(table.name, `(${table.owned}) and $1::uuid is not null and $2::uuid[] is not null`),
          [userId, []],
        );
        if (row!.found) {
          throw new DomainError(
            'CONFLICT',
            `the account is not empty (it has ${table.name}); import into a new account`,
            {
              table: table.name,
            },
          );
        }
      }

      let header: z.infer<typeof ZHeader> | undefined;
      let manifest: z.infer<typeof ZManifest> | undefined;
      const seen: Record<string, { rows: number; hash: ReturnType<typeof createHash> }> = {};
      const result: ImportResult = { imported: {}, skipped: {} };
      let pending: { table: string; rows: string[] } | undefined;
      const deferred = new Map<string, string[]>();

      const flush = async () => {
        if (pending === undefined || pending.rows.length === 0) return;
        const { table, rows } = pending;
        pending = undefined;
        await insertBatch(tx, table, rows, insertable.get(table)!, unusable.get(table));
        result.imported[table] = (result.imported[table] ?? 0) + rows.length;
      };

      for await (const line of lines) {
        if (line.trim() === '') continue;
        if (manifest !== undefined) throw new DomainError('BAD_REQUEST', 'nothing may follow the manifest');
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          throw new DomainError('BAD_REQUEST', 'a line of the export is not JSON');
        }
        const kind = (parsed as { kind?: unknown } | null)?.kind;
        if (header === undefined) {
          const checked = ZHeader.safeParse(parsed);
          if (!checked.success) {
            throw new DomainError('BAD_REQUEST', `not a ${EXPORT_FORMAT} version ${EXPORT_VERSION} file (bad header)`);
          }
          header = checked.data;
          continue;
        }
        if (kind === 'manifest') {
          const checked = ZManifest.safeParse(parsed);
          if (!checked.success) throw new DomainError('BAD_REQUEST', 'the manifest is malformed');
          manifest = checked.data;
          continue;
        }
        const table = (parsed as { table?: unknown }).table;
        if (kind !== 'row' || typeof table !== 'string')
          throw new DomainError('BAD_REQUEST', 'a line is neither row nor manifest');
        if (!known.has(table))
          throw new DomainError('BAD_REQUEST', `table "${table}" is not one this instance imports`, { table });
        // The row's text exactly as exported, for the checksum; then the owner's id becomes ours.
        const prefix = `{"kind":"row","table":${JSON.stringify(table)},"row":`;
        if (!line.startsWith(prefix) || !line.endsWith('}'))
          throw new DomainError('BAD_REQUEST', 'a row line is not in export form');
        const exported = line.slice(prefix.length, -1);
        const tally = (seen[table] ??= { rows: 0, hash: createHash('sha256') });
        tally.rows += 1;
        tally.hash.update(`${exported.replaceAll(header.ownerId, OWNER_PLACEHOLDER)}\n`);
        if (!importable.has(table)) {
          result.skipped[table] = (result.skipped[table] ?? 0) + 1;
          continue;
        }
        const row = exported.replaceAll(header.ownerId, userId);
        if ((selfReferences.get(table) ?? []).length > 0) {
          deferred.set(table, [...(deferred.get(table) ?? []), row]);
          continue;
        }
        if (pending !== undefined && (pending.table !== table || pending.rows.length >= BATCH_ROWS)) await flush();
        pending ??= { table, rows: [] };
        pending.rows.push(row);
        // Children of a self-referencing table wait for it: flush it when its rows are complete.
        if (deferred.size > 0) await flushDeferred(tx, deferred, selfReferences, insertable, result, table);
      }
      await flush();
      await flushDeferred(tx, deferred, selfReferences, insertable, result, undefined);

      if (header === undefined) throw new DomainError('BAD_REQUEST', 'the export is empty');
      if (manifest === undefined) throw new DomainError('BAD_REQUEST', 'the export has no manifest: it is truncated');
      for (const [table, expected] of Object.entries(manifest.tables)) {
        const got = seen[table];
        const sha256 = got?.hash.digest('hex') ?? createHash('sha256').digest('hex');
        if ((got?.rows ?? 0) !== expected.rows || sha256 !== expected.sha256) {
          throw new DomainError('BAD_REQUEST', `table "${table}" does not match the manifest's count and checksum`, {
            table,
          });
        }
      }
      for (const table of Object.keys(seen)) {
        if (!(table in manifest.tables))
          throw new DomainError('BAD_REQUEST', `table "${table}" is missing from the manifest`);
      }
      recordAudit(tx, actor, {
        action: 'account.import',
        subjectType: 'user',
        subjectId: userId,
        details: { imported: result.imported, skipped: result.skipped },
      });
      return result;
    });
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) {
      throw new DomainError('CONFLICT', 'rows of this export already exist on this instance (same ids)');
    }
    if (error instanceof ForeignKeyConstraintViolationException || error instanceof CheckConstraintViolationException) {
      throw new DomainError(
        'BAD_REQUEST',
        'the export refers to rows it does not contain, or holds values this instance refuses',
      );
    }
    const sqlState = error instanceof DriverException ? (error as { code?: unknown }).code : undefined;
    if (typeof sqlState === 'string' && (sqlState.startsWith('22') || sqlState.startsWith('23'))) {
      throw new DomainError('BAD_REQUEST', `the export holds a value this instance refuses (SQLSTATE ${sqlState})`);
    }
    throw error;
  }
}

async function insertBatch(
  tx: EntityManager,
  table: string,
  rows: string[],
  insertable: Set<string>,
  unusable: string[] = [],
): Promise<void> {
  // The columns the rows carry that this instance has; a column added here since the export
  // was written keeps its default.
  const carried = Object.keys(JSON.parse(rows[0]!) as Record<string, unknown>).filter((c) => insertable.has(c));
  await query(
    tx,
    insertRows(
      table,
      carried.filter((c) => !unusable.includes(c)),
      unusable,
    ),
    [`[${rows.join(',')}]`],
  );
}

/**
 * Rows of a table that points into itself (a memory superseded by a newer one) are inserted once
 * the table's rows have all been read, referenced rows first. A table is flushed when a row of
 * another table arrives (the export writes each table whole), or at the end.
 */
async function flushDeferred(
  tx: EntityManager,
  deferred: Map<string, string[]>,
  selfReferences: Map<string, string[]>,
  insertable: Map<string, Set<string>>,
  result: ImportResult,
  current: string | undefined,
): Promise<void> {
  for (const [table, rows] of deferred) {
    if (table === current) continue;
    deferred.delete(table);
    const columns = selfReferences.get(table)!;
    const parsed = rows.map((text) => ({ text, row: JSON.parse(text) as Record<string, unknown> }));
    const inserted = new Set<unknown>();
    const ids = new Set(parsed.map(({ row }) => row.id));
    let remaining = parsed;
    while (remaining.length > 0) {
      const ready = remaining.filter(({ row }) =>
        columns.every((column) => row[column] == null || inserted.has(row[column]) || !ids.has(row[column])),
      );
      if (ready.length === 0) throw new DomainError('BAD_REQUEST', `rows of "${table}" refer to each other in a cycle`);
      for (let i = 0; i < ready.length; i += BATCH_ROWS) {
        await insertBatch(
          tx,
          table,
          ready.slice(i, i + BATCH_ROWS).map(({ text }) => text),
          insertable.get(table)!,
        );
      }
      for (const { row } of ready) inserted.add(row.id);
      remaining = remaining.filter((entry) => !ready.includes(entry));
    }
    result.imported[table] = (result.imported[table] ?? 0) + rows.length;
  }
}
