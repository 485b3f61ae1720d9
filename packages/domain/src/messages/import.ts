import { once } from 'node:events';
import {
  ZImportMessageLine,
  type ContentLimits,
  type TImportedSession,
  type TImportMessagesOutput,
} from '@threadstore/contract';
import type { EntityManager } from '@threadstore/db';
import { from as copyFrom } from 'pg-copy-streams';
import { DomainError } from '../errors.ts';
import { ownerOf, type Actor } from '../principal.ts';
import {
  ANALYZE_STAGING,
  COPY_STAGING,
  CHECK_KEYS,
  CREATE_STAGING,
  FIRST_BAD_PARENT,
  IMPORT_STATEMENT_TIMEOUT,
  lockSessions,
  moveStatement,
} from './import-sql.ts';
import { prepareMessage, type PreparedMessage } from './prepare.ts';

/**
 * The longest line an import accepts, in UTF-8 bytes: a message at every limit (content, and
 * metadata, citations and tool calls at `maxJsonBytes` each), written with JSON escapes (up to
 * 6 bytes a character), plus room for the other fields. Longer is a BAD_REQUEST naming the line,
 * before it is parsed, so one endless line cannot fill the API's memory.
 */
export function importLineLimit(limits: Pick<ContentLimits, 'maxContentBytes' | 'maxJsonBytes'>): number {
  return 6 * (limits.maxContentBytes + 3 * limits.maxJsonBytes) + 64 * 1024;
}

/** Chunks of COPY data this large (characters) are handed to the connection at once. */
const COPY_CHUNK_CHARS = 256 * 1024;
const NEWLINE = 0x0a;

interface PoolClient {
  query<Row>(text: string, parameters?: unknown[]): Promise<{ rows: Row[] }>;
  query<Stream>(stream: Stream): Stream;
  release(error?: Error | boolean): void;
}
interface Pool {
  connect(): Promise<PoolClient>;
}

/**
 * Imports an NDJSON stream of messages (`ZImportMessageLine`, one per line, into any number of
 * the actor's sessions), all or nothing:
 *  - each line is parsed, checked against the contract and the content limits, and sanitized
 *    exactly as an append does (`prepareMessage`), while it streams: a bad line (not UTF-8, not
 *    JSON, a NUL byte, longer than `importLineLimit`, failing the schema or a limit, a key repeated
 *    in the stream) is a BAD_REQUEST naming it;
 *  - good lines go by COPY into a temporary staging table on a connection of the import's own;
 *  - at the end the sessions are locked (in id order), checked (another principal's or a deleted
 *    session is NOT_FOUND naming its first line), keys already stored are compared (the same
 *    message: left as stored and counted `unchanged`, so re-sending a stream is harmless; a
 *    different or deleted one: CONFLICT naming the line), and one statement moves the rest into
 *    chat_messages with gapless seqs in line order per session, queues them for search, moves the
 *    sessions' counters on and writes one audit row per session.
 * Any failure rolls the whole request back: nothing is written. A client importing more than
 * one request holds (the body limit) sends it as several requests, each all or nothing; because
 * every line carries its key, re-sending any of them after a failure is safe (see the client's
 * `importMessages`).
 */
export async function importMessages(
  em: EntityManager,
  actor: Actor,
  body: AsyncIterable<Uint8Array>,
  limits: ContentLimits,
): Promise<TImportMessagesOutput> {
  const owner = ownerOf(actor.principal);
  const pool = (await em.getConnection().getNativeClient()) as unknown as Pool;
  const client = await pool.connect();
  let failed: Error | undefined;
  try {
    await client.query('begin');
    await client.query(IMPORT_STATEMENT_TIMEOUT);
    await client.query(CREATE_STAGING);
    const parsed = await copyLines(client, body, limits);

    await client.query(ANALYZE_STAGING);
    const sessionIds = [...parsed.sessions.keys()].sort();
    const lock = lockSessions(owner, sessionIds);
    const locked = await client.query<{ id: string }>(lock.text, lock.values);
    if (locked.rows.length < sessionIds.length) {
      const found = new Set(locked.rows.map((row) => row.id));
      const [, line] = [...parsed.sessions].filter(([id]) => !found.has(id)).sort((a, b) => a[1] - b[1])[0]!;
      // The line only, not the id: the caller sent it, and the answer must read exactly as for an id
      // that does not exist (the cross-tenant matrix compares them).
      throw new DomainError('NOT_FOUND', `session not found (line ${line})`, { line });
    }
    const [keys] = (
      await client.query<{
        conflict_line: number | null;
        conflict_deleted: boolean | null;
        unchanged: Record<string, number>;
      }>(CHECK_KEYS)
    ).rows;
    if (keys!.conflict_line !== null) {
      const line = keys!.conflict_line;
      throw new DomainError(
        'CONFLICT',
        keys!.conflict_deleted === true
          ? `line ${line}: its clientMessageId belongs to a deleted message`
          : `line ${line}: its clientMessageId is already used by a different message`,
        { line },
      );
    }
    const unchanged = new Map(Object.entries(keys!.unchanged));
    if (parsed.withParent) {
      const [bad] = (await client.query<{ line: number }>(FIRST_BAD_PARENT)).rows;
      if (bad !== undefined) {
        throw new DomainError(
          'BAD_REQUEST',
          `line ${bad.line}: parentId must be a visible message of the same session`,
          {
            line: bad.line,
            field: 'parentId',
          },
        );
      }
    }
    const move = moveStatement(actor, unchanged.size > 0);
    const moved = new Map(
      (
        await client.query<{ session_id: string; count: number; first_seq: string; last_seq: string }>(
          move.text,
          move.values,
        )
      ).rows.map((row) => [row.session_id, row]),
    );
    await client.query('commit');

    const sessions: TImportedSession[] = sessionIds.map((sessionId) => {
      const row = moved.get(sessionId);
      return {
        sessionId,
        imported: row?.count ?? 0,
        unchanged: unchanged.get(sessionId) ?? 0,
        firstSeq: row === undefined ? null : Number(row.first_seq),
        lastSeq: row === undefined ? null : Number(row.last_seq),
      };
    });
    return {
      lines: parsed.lines,
      imported: sessions.reduce((sum, session) => sum + session.imported, 0),
      unchanged: sessions.reduce((sum, session) => sum + session.unchanged, 0),
      sessions,
    };
  } catch (error) {
    failed = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    // A failed import's connection may be anywhere: in a COPY the server is still reading, in an
    // aborted transaction. It is closed rather than handed back (the server rolls back whatever
    // it held); a new connection costs a few milliseconds, only on this failure path.
    client.release(failed ?? undefined);
  }
}

interface ParsedLines {
  lines: number;
  /** Each session named, with the first line naming it. */
  sessions: Map<string, number>;
  withParent: boolean;
}

/**
 * Reads `body` line by line, checks and prepares each line and writes it to a COPY into the
 * staging table, with backpressure (the parser waits while PostgreSQL is behind). On a bad line
 * the COPY is abandoned and the rest of the body is read and discarded, so an HTTP client still
 * uploading gets the error as its answer rather than a reset connection; then it throws.
 */
async function copyLines(client: PoolClient, body: AsyncIterable<Uint8Array>, limits: ContentLimits) {
  const maxLineBytes = importLineLimit(limits);
  const copy = client.query(copyFrom(COPY_STAGING));
  // The COPY's own failure (the server refused a row) surfaces at the latest when it is finished.
  let copyError: Error | undefined;
  copy.on('error', (error: Error) => (copyError ??= error));
  const parsed: ParsedLines = { lines: 0, sessions: new Map(), withParent: false };
  const keys = new Map<string, number>();
  // Each line's place among its session's lines, for its seq (see moveStatement).
  const positions = new Map<string, number>();
  let chunk: string[] = [];
  let chunkChars = 0;

  const flush = async () => {
    if (chunk.length === 0) return;
    const data = chunk.join('');
    chunk = [];
    chunkChars = 0;
    if (!copy.write(data)) await Promise.race([once(copy, 'drain'), once(copy, 'error')]);
    if (copyError !== undefined) throw copyError;
  };

  const decoder = new TextDecoder('utf-8', { fatal: true });
  const take = (bytes: Uint8Array) => {
    parsed.lines += 1;
    const line = parsed.lines;
    if (bytes.length > maxLineBytes) {
      throw lineError(line, `is longer than ${maxLineBytes} bytes`, { limit: 'importLineBytes', max: maxLineBytes });
    }
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      throw lineError(line, 'is not valid UTF-8');
    }
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw lineError(
        line,
        text.includes('\0') ? 'holds a NUL byte outside a JSON escape (not JSON)' : 'is not a JSON object',
      );
    }
    const checked = ZImportMessageLine.safeParse(value);
    if (!checked.success) {
      const issue = checked.error.issues[0]!;
      const path = issue.path.join('.');
      throw lineError(line, `${path === '' ? '' : `${path}: `}${issue.message}`, {
        ...(path === '' ? {} : { field: path }),
      });
    }
    const { sessionId, ...input } = checked.data;
    const message = prepareMessage(input, limits, (name) => `line ${line}: ${name}`);
    const key = `${sessionId}\n${input.clientMessageId}`;
    const earlier = keys.get(key);
    if (earlier !== undefined) {
      throw lineError(line, `clientMessageId repeats the one of line ${earlier} (same session)`, {
        field: 'clientMessageId',
      });
    }
    keys.set(key, line);
    if (!parsed.sessions.has(sessionId)) parsed.sessions.set(sessionId, line);
    const position = (positions.get(sessionId) ?? 0) + 1;
    positions.set(sessionId, position);
    if (message.parentId !== null) parsed.withParent = true;
    const row = copyRow(line, sessionId, position, message);
    chunk.push(row);
    chunkChars += row.length;
  };

  // Lines are split on the newline byte (it never occurs inside a multi-byte UTF-8 sequence), so
  // each line is measured in bytes and decoded on its own, and an error can name its line.
  // A partial line waits for the next chunk as a list of copies (the chunk's buffer may be
  // reused), joined once when its newline arrives: no quadratic copying of a long line.
  let rest: Buffer[] = [];
  let restBytes = 0;
  let failure: unknown;
  const iterator = body[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) break;
      const bytes = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
      let start = 0;
      let newline = bytes.indexOf(NEWLINE);
      if (restBytes > 0 && newline !== -1) {
        take(Buffer.concat([...rest, bytes.subarray(0, newline)]));
        rest = [];
        restBytes = 0;
        start = newline + 1;
        newline = bytes.indexOf(NEWLINE, start);
      }
      for (; newline !== -1; newline = bytes.indexOf(NEWLINE, start)) {
        take(bytes.subarray(start, newline));
        start = newline + 1;
      }
      if (start < bytes.length) {
        rest.push(Buffer.from(bytes.subarray(start)));
        restBytes += bytes.length - start;
        if (restBytes > maxLineBytes) take(Buffer.concat(rest));
      }
      if (chunkChars >= COPY_CHUNK_CHARS) await flush();
    }
    if (restBytes > 0) take(Buffer.concat(rest));
    if (parsed.sessions.size === 0) throw new DomainError('BAD_REQUEST', 'the import holds no message');
    await flush();
    copy.end();
    await Promise.race([once(copy, 'finish'), once(copy, 'error')]);
    if (copyError !== undefined) throw copyError;
    return parsed;
  } catch (error) {
    failure = error;
    // Tell the server to abandon the COPY; the caller then discards the connection.
    copy.destroy(error instanceof Error ? error : new Error(String(error)));
    // Read the rest of the request without parsing it (the body limit still bounds it).
    try {
      for (let next = await iterator.next(); next.done !== true; next = await iterator.next());
    } catch {
      // The body itself failed (over the limit, the client went away): the first error stands.
    }
    throw failure;
  }
}

function lineError(line: number, problem: string, details: Record<string, unknown> = {}): DomainError {
  return new DomainError('BAD_REQUEST', `line ${line} ${problem}`, { line, ...details });
}

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const NEEDS_ESCAPE = /[\\\n\r\t]/;
const ESCAPED = /[\\\n\r\t]/g;

/** A value in COPY's text format: `\N` for null, backslash escapes for the four characters that need one. */
function copyValue(value: string | number | null): string {
  if (value === null) return '\\N';
  if (typeof value === 'number') return String(value);
  return NEEDS_ESCAPE.test(value) ? value.replace(ESCAPED, (c) => COPY_ESCAPES[c]!) : value;
}

/** One staging row; prepared values hold no NUL (sanitized, or refused by the contract). */
function copyRow(line: number, sessionId: string, position: number, m: PreparedMessage): string {
  return `${line}\t${sessionId}\t${position}\t${m.id}\t${copyValue(m.parentId)}\t${m.role}\t${copyValue(m.content)}\t${copyValue(
    m.parts,
  )}\t${copyValue(m.chapter)}\t${copyValue(m.citations)}\t${copyValue(m.toolCalls)}\t${copyValue(
    m.metadata,
  )}\t${copyValue(m.model)}\t${copyValue(m.promptTokens)}\t${copyValue(m.completionTokens)}\t${copyValue(
    m.cost,
  )}\t${copyValue(m.latencyMs)}\t${copyValue(m.agentId)}\t${copyValue(m.clientMessageId)}\t${copyValue(
    m.requestHash,
  )}\t${m.sanitized ? 't' : 'f'}\n`;
}
