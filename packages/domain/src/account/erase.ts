import type { EntityManager } from '@threadstore/db';
import { DomainError, notFound } from '../errors.ts';
import { query } from '../messages/sql.ts';
import { readOwnership } from './ownership.ts';
import {
  ANONYMIZE_AUDIT_ROWS,
  AUDIT_ERASURE,
  BATCH_LIMITS,
  CLAIMED_ANONYMOUS_IDS,
  DELETE_USER,
  deleteSome,
  ERASURE_RECEIPT,
  FINISH_ERASURE,
  HIDE_USER,
  LEGAL_HOLDS_OF_USER,
  OWN_AUDIT_ROWS,
  REVOKE_KEYS,
  RUNNING_ERASURE,
  STALE_ERASURES,
  START_ERASURE,
  TALLY,
} from './sql.ts';

/** What an erasure leaves behind: no id, email or name of whom it erased. */
export interface ErasureReceipt {
  erasureId: string;
  status: 'running' | 'completed';
  /** Rows deleted per table (`audit_log` deleted, `audit_log_anonymized` stripped of the user). */
  counts: Record<string, number>;
  batches: number;
  startedAt: string;
  finishedAt: string | null;
}

export interface EraseOptions {
  /** The most rows one transaction deletes. */
  batchSize?: number;
  signal?: AbortSignal;
  /** Called after each committed batch (progress for the worker's receipt, tests). */
  onBatch?: (table: string, rows: number) => void | Promise<void>;
  requestId?: string | null;
}

/**
 * Rows per batch: a batch locks only the rows it deletes (other accounts never wait on it), so
 * its size trades round trips and per-batch planning against how long one transaction runs.
 */
const DEFAULT_BATCH_SIZE = 10_000;
const LOCK_RETRIES = 20;

/**
 * Erases a user's account for good: `startErasure`, then `runErasure` to the end. A process
 * killed half-way leaves a running erasure that the next call (or the worker's `account-erasure`
 * job) finishes: every step deletes what is still there, so running one twice is harmless.
 */
export async function eraseAccount(
  em: EntityManager,
  userId: string,
  options: EraseOptions = {},
): Promise<ErasureReceipt> {
  const erasureId = await startErasure(em, userId);
  return runErasure(em, erasureId, options);
}

/**
 * Refuses an account under legal hold; otherwise records (or joins) the erasure with what it
 * must find (claimed anonymous ids, API key ids) and shuts the account: the user's tokens and
 * keys stop working in the same transaction.
 */
export async function startErasure(em: EntityManager, userId: string): Promise<string> {
  return em.transactional(async (tx) => {
    const [user] = await query<{ id: string }>(tx, `select id from users where id = $1 for update`, [userId]);
    if (user === undefined) throw notFound('account');
    const [{ holds }] = (await query<{ holds: number }>(tx, LEGAL_HOLDS_OF_USER, [userId])) as [{ holds: number }];
    if (holds > 0) {
      throw new DomainError('CONFLICT', 'this account is under a legal hold and cannot be erased until it is lifted', {
        reason: 'legal_hold',
      });
    }
    const anonymousIds = (await query<{ id: string }>(tx, CLAIMED_ANONYMOUS_IDS, [userId]))
      .map((row) => row.id)
      .filter((id) => UUID.test(id));
    const keyIds = (await query<{ id: string }>(tx, `select id from api_keys where user_id = $1`, [userId])).map(
      (row) => row.id,
    );
    const [erasure] = await query<{ id: string }>(tx, START_ERASURE, [userId, anonymousIds, keyIds]);
    await query(tx, HIDE_USER, [userId]);
    await query(tx, REVOKE_KEYS, [userId]);
    return erasure!.id;
  });
}

/**
 * Rows kept without foreign keys on purpose (a bulk delete of messages fires no per-row trigger
 * for them), so the catalog does not tie them to the user: the message search index and its
 * queue. They go with their messages, in the same statement; left behind, an erased account's
 * words would stay in the index.
 */
const UNLINKED_INDEXES: Record<string, { table: string; column: string }[]> = {
  chat_messages: [
    { table: 'chat_message_search', column: 'message_id' },
    { table: 'chat_message_search_queue', column: 'message_id' },
  ],
};

/** Finishes running erasures whose process died (no batch for `staleAfterSeconds`). */
export async function resumeStaleErasures(
  em: EntityManager,
  { staleAfterSeconds, ...options }: EraseOptions & { staleAfterSeconds: number },
): Promise<ErasureReceipt[]> {
  const stale = await query<{ id: string }>(em, STALE_ERASURES, [staleAfterSeconds]);
  const receipts: ErasureReceipt[] = [];
  for (const { id } of stale) {
    if (options.signal?.aborted) break;
    receipts.push(await runErasure(em, id, options));
  }
  return receipts;
}

/** Deletes, in short batches, everything the erasure's user owns, then the user; returns the receipt. */
export async function runErasure(
  em: EntityManager,
  erasureId: string,
  options: EraseOptions = {},
): Promise<ErasureReceipt> {
  const { batchSize = DEFAULT_BATCH_SIZE, signal, onBatch, requestId = null } = options;
  const [erasure] = await query<{
    id: string;
    user_id: string;
    anonymous_ids: string[];
    api_key_ids: string[];
    email: string | null;
    username: string | null;
  }>(em, RUNNING_ERASURE, [erasureId]);
  if (erasure === undefined) return receipt(em, erasureId);
  const subject = [erasure.user_id, erasure.anonymous_ids, erasure.api_key_ids];

  const batch = async (table: string, sql: string, parameters: unknown[]): Promise<number> => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const rows = await em.transactional(async (tx) => {
          await query(tx, BATCH_LIMITS, []);
          const [{ rows }] = (await query<{ rows: number }>(tx, sql, parameters)) as [{ rows: number }];
          if (rows > 0) await query(tx, TALLY, [erasureId, table, rows]);
          return rows;
        });
        if (rows > 0) await onBatch?.(table, rows);
        return rows;
      } catch (error) {
        // A row someone holds locked (lock_timeout) or a deadlock: back off and try again.
        const code = (error as { code?: unknown }).code ?? (error as { cause?: { code?: unknown } }).cause?.code;
        if (attempt >= LOCK_RETRIES || (code !== '55P03' && code !== '40P01' && !isLockError(error))) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  };
  const drain = async (table: string, sql: string, parameters: unknown[]) => {
    while (!signal?.aborted && (await batch(table, sql, parameters)) > 0);
  };

  // The trail first, while the key ids and claimed ids still resolve.
  await drain('audit_log', deleteSome('audit_log', OWN_AUDIT_ROWS, '$4'), [...subject, batchSize]);
  const patterns = [erasure.user_id, erasure.email, erasure.username, ...erasure.anonymous_ids]
    .filter((value): value is string => typeof value === 'string' && value.length > 0)
    .map((value) => `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  if (!signal?.aborted) await batch('audit_log_anonymized', ANONYMIZE_AUDIT_ROWS, [...subject, patterns]);

  // Children before parents, so no cascade ever deletes a large set in one statement.
  const { tables } = await readOwnership(em);
  for (const table of [...tables].reverse()) {
    if (signal?.aborted) break;
    const indexes = UNLINKED_INDEXES[table.name] ?? [];
    await drain(table.name, deleteSome(table.name, ownedRows(table.owned), '$3', indexes), [
      erasure.user_id,
      erasure.anonymous_ids,
      batchSize,
    ]);
    // Search rows the batches could not reach: an indexer batch that read a message before its
    // delete committed may insert its row after. They carry their session, which goes later.
    if (table.name === 'chat_messages' && !signal?.aborted) {
      const sessions = tables.find((candidate) => candidate.name === 'chat_sessions')!;
      const straggler = `session_id in (select id from chat_sessions where ${ownedRows(sessions.owned)})`;
      await drain('chat_message_search', deleteSome('chat_message_search', straggler, '$3'), [
        erasure.user_id,
        erasure.anonymous_ids,
        batchSize,
      ]);
    }
  }
  if (signal?.aborted) return receipt(em, erasureId);

  await em.transactional(async (tx) => {
    await query(tx, BATCH_LIMITS, []);
    const [{ rows }] = (await query<{ rows: number }>(tx, DELETE_USER, [erasure.user_id])) as [{ rows: number }];
    const [finished] = await query<{ counts: Record<string, number> }>(tx, FINISH_ERASURE, [erasureId, rows]);
    await query(tx, AUDIT_ERASURE, [erasureId, JSON.stringify({ counts: finished!.counts }), requestId]);
  });
  return receipt(em, erasureId);
}

async function receipt(em: EntityManager, erasureId: string): Promise<ErasureReceipt> {
  const [row] = await query<{
    id: string;
    status: 'running' | 'completed';
    counts: Record<string, number>;
    batches: number;
    started_at: Date;
    finished_at: Date | null;
  }>(em, ERASURE_RECEIPT, [erasureId]);
  if (row === undefined) throw notFound('erasure');
  return {
    erasureId: row.id,
    status: row.status,
    counts: Object.fromEntries(Object.entries(row.counts).map(([table, rows]) => [table, Number(rows)])),
    batches: row.batches,
    startedAt: new Date(row.started_at).toISOString(),
    finishedAt: row.finished_at === null ? null : new Date(row.finished_at).toISOString(),
  };
}

/** Both parameters typed in every statement, also where a table has no anonymous owner column. */
export function ownedRows(condition: string): string {
  return `(${condition}) and $1::uuid is not null and $2::uuid[] is not null`;
}

function isLockError(error: unknown): boolean {
  return error instanceof Error && /lock timeout|deadlock/i.test(error.message);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
