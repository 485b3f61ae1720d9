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
  COPY_MESSAGES,
  COPY_SEARCH_QUEUE,
  finishStatement,
  FIRST_BAD_PARENT,
  IMPORT_STATEMENT_TIMEOUT,
  lockSessions,
  STORED_KEYS,
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
 *    exactly as an append does (`prepareMessage`), as it streams: a bad line (not UTF-8, not
 *    JSON, a raw NUL byte, longer than `importLineLimit`, failing the schema or a limit, a key
 *    repeated in the stream) is a BAD_REQUEST naming it, before anything touches the database;
 *  - then, on a connection of the import's own, in one transaction: the sessions are locked (in
 *    id order; another principal's or a deleted session is NOT_FOUND naming its first line), the
 *    keys already stored are compared (the same message: left as stored and counted `unchanged`,
 *    so re-sending a stream is harmless; a different or deleted one: CONFLICT naming the line),
 *    parents are checked, and the rest is COPYed into chat_messages with gapless seqs in line
 *    order per session, its ids COPYed into the search queue, and one statement moves the
 *    sessions' counters on and writes one audit row per session.
 * Any failure rolls the whole request back: nothing is written. The request's rows wait in
 * memory between parsing and the COPY (about the size of the body: LIMIT_MAX_IMPORT_BYTES bounds
 * it), because their seqs are known only once the sessions, named anywhere in the stream, are
 * locked. A client importing more than one request holds sends several, each all or nothing;
 * because every line carries its key, re-sending any of them after a failure is safe (see the
 * client's `importMessages`).
 */
export async function importMessages(
  em: EntityManager,
  actor: Actor,
  body: AsyncIterable<Uint8Array>,
  limits: ContentLimits,
): Promise<TImportMessagesOutput> {
  const owner = ownerOf(actor.principal);
  const parsed = await parseLines(body, limits);
  const pool = (await em.getConnection().getNativeClient()) as unknown as Pool;
  const client = await pool.connect();
  let failed: Error | undefined;
  try {
    await client.query('begin');
    await client.query(IMPORT_STATEMENT_TIMEOUT);
    const sessionIds = [...parsed.sessions.keys()].sort();
    const lock = lockSessions(owner, sessionIds);
    const locked = await client.query<{ id: string; last_seq: string }>(lock.text, lock.values);
    if (locked.rows.length < sessionIds.length) {
      const found = new Set(locked.rows.map((row) => row.id));
      const [, line] = [...parsed.sessions].filter(([id]) => !found.has(id)).sort((a, b) => a[1] - b[1])[0]!;
      // The line only, not the id: the caller sent it, and the answer must read exactly as for an id
      // that does not exist (the cross-tenant matrix compares them).
      throw new DomainError('NOT_FOUND', `session not found (line ${line})`, { line });
    }
    const { rows: rowsOut } = parsed;
    // Keys are looked up only in sessions that hold messages: a session whose last_seq is 0 (read
    // under its lock, so no append can store one meanwhile) holds none, so no key. An import into
    // new sessions, the common case, skips the lookup (~4 µs of server CPU a line).
    const empty = new Set(locked.rows.filter((row) => Number(row.last_seq) === 0).map((row) => row.id));
    /** Indexes (in rowsOut) of the lines whose key is looked up. */
    const probed: number[] = [];
    for (let index = 0; index < rowsOut.length; index++) if (!empty.has(rowsOut[index]!.sessionId)) probed.push(index);
    const stored =
      probed.length === 0
        ? []
        : (
            await client.query<{ index: number; same: boolean; deleted: boolean }>(STORED_KEYS, [
              probed.map((index) => rowsOut[index]!.sessionId),
              probed.map((index) => rowsOut[index]!.key),
              probed.map((index) => rowsOut[index]!.hash),
            ])
          ).rows;
    const skip = new Set<number>();
    let conflict: { index: number; deleted: boolean } | undefined;
    for (const found of stored) {
      const index = probed[found.index]!;
      if (found.same) skip.add(index);
      else if (conflict === undefined || index < conflict.index) conflict = { index, deleted: found.deleted };
    }
    if (conflict !== undefined) {
      const line = rowsOut[conflict.index]!.line;
      throw new DomainError(
        'CONFLICT',
        conflict.deleted
          ? `line ${line}: its clientMessageId belongs to a deleted message`
          : `line ${line}: its clientMessageId is already used by a different message`,
        { line },
      );
    }
    const withParent = rowsOut.filter((row) => row.parentId !== null);
    if (withParent.length > 0) {
      const [bad] = (
        await client.query<{ index: number }>(FIRST_BAD_PARENT, [
          withParent.map((row) => row.sessionId),
          withParent.map((row) => row.parentId),
        ])
      ).rows;
      if (bad !== undefined) {
        const line = withParent[bad.index]!.line;
        throw new DomainError('BAD_REQUEST', `line ${line}: parentId must be a visible message of the same session`, {
          line,
          field: 'parentId',
        });
      }
    }

    // Seqs: each session's lines in order, after its last seq, skipping lines already stored.
    const next = new Map(locked.rows.map((row) => [row.id, Number(row.last_seq)]));
    const first = new Map<string, number>();
    const counts = new Map<string, number>();
    const unchanged = new Map<string, number>();
    const messages: string[] = [];
    const ids: string[] = [];
    let chars = 0;
    const copy = client.query(copyFrom(COPY_MESSAGES));
    const writing = (async () => {
      for (let index = 0; index < rowsOut.length; index++) {
        const row = rowsOut[index]!;
        if (skip.has(index)) {
          unchanged.set(row.sessionId, (unchanged.get(row.sessionId) ?? 0) + 1);
          continue;
        }
        const seq = next.get(row.sessionId)! + 1;
        next.set(row.sessionId, seq);
        if (!first.has(row.sessionId)) first.set(row.sessionId, seq);
        counts.set(row.sessionId, (counts.get(row.sessionId) ?? 0) + 1);
        const text = `${row.id}\t${row.sessionId}\t${seq}\t${row.tail}`;
        messages.push(text);
        ids.push(row.id);
        chars += text.length;
        if (chars >= COPY_CHUNK_CHARS) {
          await write(copy, messages.join(''));
          messages.length = 0;
          chars = 0;
        }
      }
      if (messages.length > 0) await write(copy, messages.join(''));
    })();
    await finish(copy, writing);
    if (ids.length > 0) {
      const queued = client.query(copyFrom(COPY_SEARCH_QUEUE));
      await finish(queued, write(queued, `${ids.join('\tt\n')}\tt\n`));
      const sessions = [...counts].map(([id, count]) => ({
        id,
        count,
        firstSeq: first.get(id)!,
        lastSeq: next.get(id)!,
      }));
      const done = finishStatement(actor, sessions);
      await client.query(done.text, done.values);
    }
    await client.query('commit');

    const sessions: TImportedSession[] = sessionIds.map((sessionId) => {
      const count = counts.get(sessionId) ?? 0;
      return {
        sessionId,
        imported: count,
        unchanged: unchanged.get(sessionId) ?? 0,
        firstSeq: count === 0 ? null : first.get(sessionId)!,
        lastSeq: count === 0 ? null : next.get(sessionId)!,
      };
    });
    return { lines: parsed.lines, imported: ids.length, unchanged: skip.size, sessions };
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

type CopyStream = ReturnType<typeof copyFrom>;

/**
 * Writes to a COPY, waiting while the server is behind (backpressure). The listeners are removed
 * after each wait: `events.once` for 'error' would leave one behind per wait (hundreds per import).
 */
async function write(copy: CopyStream, data: string): Promise<void> {
  if (copy.write(data)) return;
  await new Promise<void>((resolve, reject) => {
    const settle = (error?: Error) => {
      copy.off('drain', drained);
      copy.off('error', settle);
      if (error === undefined) resolve();
      else reject(error);
    };
    const drained = () => settle();
    copy.once('drain', drained);
    copy.once('error', settle);
  });
}

/** Ends the COPY once `writing` is done and waits for the server's answer; rejects with either's error. */
async function finish(copy: CopyStream, writing: Promise<void>): Promise<void> {
  const failed = new Promise<never>((_, reject) => copy.once('error', reject));
  await Promise.race([writing, failed]);
  copy.end();
  await Promise.race([once(copy, 'finish'), failed]);
}

/** One parsed line, ready to be COPYed once its seq is known. */
interface ParsedRow {
  line: number;
  sessionId: string;
  id: string;
  key: string;
  hash: string;
  parentId: string | null;
  /** The row's COPY text after id, session and seq (see `copyTail`). */
  tail: string;
}

interface ParsedLines {
  lines: number;
  /** Each session named, with the first line naming it. */
  sessions: Map<string, number>;
  rows: ParsedRow[];
}

/**
 * Reads `body` line by line and checks and prepares each line. On a bad line the rest of the
 * body is read and discarded, so an HTTP client still uploading gets the error as its answer
 * rather than a reset connection; then it throws.
 */
async function parseLines(body: AsyncIterable<Uint8Array>, limits: ContentLimits): Promise<ParsedLines> {
  const maxLineBytes = importLineLimit(limits);
  const parsed: ParsedLines = { lines: 0, sessions: new Map(), rows: [] };
  const keys = new Map<string, number>();

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
    const sessionKey = `${sessionId}\n${input.clientMessageId}`;
    const earlier = keys.get(sessionKey);
    if (earlier !== undefined) {
      throw lineError(line, `clientMessageId repeats the one of line ${earlier} (same session)`, {
        field: 'clientMessageId',
      });
    }
    keys.set(sessionKey, line);
    if (!parsed.sessions.has(sessionId)) parsed.sessions.set(sessionId, line);
    parsed.rows.push({
      line,
      sessionId,
      id: message.id,
      key: input.clientMessageId,
      hash: message.requestHash!,
      parentId: message.parentId,
      tail: copyTail(message),
    });
  };

  // Lines are split on the newline byte (it never occurs inside a multi-byte UTF-8 sequence), so
  // each line is measured in bytes and decoded on its own, and an error can name its line.
  // A partial line waits for the next chunk as a list of copies (the chunk's buffer may be
  // reused), joined once when its newline arrives: no quadratic copying of a long line.
  let rest: Buffer[] = [];
  let restBytes = 0;
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
    }
    if (restBytes > 0) take(Buffer.concat(rest));
    if (parsed.sessions.size === 0) throw new DomainError('BAD_REQUEST', 'the import holds no message');
    return parsed;
  } catch (error) {
    // Read the rest of the request without parsing it (the body limit still bounds it).
    try {
      for (let next = await iterator.next(); next.done !== true; next = await iterator.next());
    } catch {
      // The body itself failed (over the limit, the client went away): the first error stands.
    }
    throw error;
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

/** A row's COPY text after id, session and seq; prepared values hold no NUL (sanitized, or refused by the contract). */
function copyTail(m: PreparedMessage): string {
  return `${copyValue(m.parentId)}\t${m.role}\t${copyValue(m.content)}\t${copyValue(m.parts)}\t${copyValue(
    m.chapter,
  )}\t${copyValue(m.citations)}\t${copyValue(m.toolCalls)}\t${copyValue(m.metadata)}\t${copyValue(
    m.model,
  )}\t${copyValue(m.promptTokens)}\t${copyValue(m.completionTokens)}\t${copyValue(m.cost)}\t${copyValue(
    m.latencyMs,
  )}\t${copyValue(m.agentId)}\t${copyValue(m.clientMessageId)}\t${copyValue(m.requestHash)}\t${
    m.sanitized ? 't' : 'f'
  }\n`;
}
