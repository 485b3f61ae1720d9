/**
 * The baseline: a bare `node:http` + `pg` server answering the benchmarked procedures on the
 * same paths and in the same JSON shapes as the API (`{ result: { data } }`), running the same
 * SQL statements, on a pool of the same size, authenticated the same way (X-Session-ID). What it
 * leaves out is everything the API adds around that SQL: tRPC, zod validation, the ORM's
 * connection handling, limits, sanitization, error translation, logging. API ÷ baseline is the
 * price of that stack.
 *
 * Run by main.ts as a child process; it reads BENCH_DATABASE_URL, BENCH_PORT, BENCH_POOL_MAX.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { connectionSettingsFromUrl, pgClientConfig, uuidv7 } from '@threadstore/db';
// The same row-to-DTO mapping as the API: the comparison is about the stack, not the mapping.
import {
  appendStatement,
  listingStatement,
  MESSAGE_COLUMNS,
  sessionFromRow,
  toMessage,
  type Actor,
  type ListingFilters,
  type MessageRow,
  type SessionRow,
} from '@threadstore/domain';
import pg from 'pg';

type PreparedMessage = Parameters<typeof appendStatement>[3][number];

interface NewMessage {
  role: PreparedMessage['role'];
  content: string;
  metadata?: Record<string, unknown>;
  clientMessageId?: string;
}

const pool = new pg.Pool({
  ...pgClientConfig(connectionSettingsFromUrl(process.env.BENCH_DATABASE_URL!, 'threadstore-bench-baseline')),
  max: Number(process.env.BENCH_POOL_MAX),
});

/** The message as the insert binds it; no limits, no sanitizing, a hash of the raw JSON. */
function prepare(message: NewMessage): PreparedMessage {
  const clientMessageId = message.clientMessageId ?? null;
  return {
    id: uuidv7(),
    role: message.role,
    content: message.content,
    parts: null,
    editOf: null,
    chapter: null,
    citations: null,
    toolCalls: null,
    metadata: JSON.stringify(message.metadata ?? {}),
    model: null,
    promptTokens: null,
    completionTokens: null,
    cost: null,
    latencyMs: null,
    parentId: null,
    agentId: null,
    clientMessageId,
    requestHash: clientMessageId === null ? null : createHash('sha256').update(JSON.stringify(message)).digest('hex'),
    sanitized: false,
  };
}

// The columns are the domain's own (MESSAGE_COLUMNS); the statements are copied from
// packages/domain/src/messages/history.ts (latest page, or `before` a seq; no chapter), which
// builds them inside messageHistory() instead of exporting them.
const LATEST_PAGE = `select page.*, false as beyond
       from chat_sessions s
       left join lateral (
         select ${MESSAGE_COLUMNS}
           from chat_messages m
          where m.session_id = $1 and m.deleted_at is null
          order by m.seq desc
          limit $2
       ) as page on true
      where s.id = $1 and s.deleted_at is null and s.anonymous_id = $3
      order by page.seq desc`;
const PAGE_BEFORE = `select page.*, exists (select from chat_messages m where m.session_id = $1 and m.deleted_at is null and m.seq >= $2) as beyond
       from chat_sessions s
       left join lateral (
         select ${MESSAGE_COLUMNS}
           from chat_messages m
          where m.session_id = $1 and m.deleted_at is null and m.seq < $2
          order by m.seq desc
          limit $3
       ) as page on true
      where s.id = $1 and s.deleted_at is null and s.anonymous_id = $4
      order by page.seq desc`;

async function history(anonymousId: string, input: { sessionId: string; before?: number; limit?: number }) {
  const limit = input.limit ?? 50;
  const { rows } =
    input.before === undefined
      ? await pool.query<MessageRow & { beyond: boolean }>({
          name: 'latest_page',
          text: LATEST_PAGE,
          values: [input.sessionId, limit + 1, anonymousId],
        })
      : await pool.query<MessageRow & { beyond: boolean }>({
          name: 'page_before',
          text: PAGE_BEFORE,
          values: [input.sessionId, input.before, limit + 1, anonymousId],
        });
  const [first] = rows;
  if (first === undefined) return null;
  const found = rows.filter((row) => row.id !== null);
  const page = found.slice(0, limit).reverse();
  return { items: page.map(toMessage), hasOlder: found.length > limit, hasNewer: first.beyond };
}

// The listing as packages/domain/src/sessions/list.ts runs it for an anonymous owner, first page,
// default order: the same statement (pinned part, then unpinned part, each newest activity
// first), named as the API names it, and the same row mapping.
const DEFAULT_LISTING: ListingFilters = {
  orderBy: 'lastActivity',
  statuses: null,
  projectId: null,
  archived: false,
  deleted: false,
  titleContains: null,
  tag: null,
};

async function listSessions(anonymousId: string, input: { limit?: number }) {
  const size = input.limit ?? 50;
  const statement = listingStatement({ anonymousId }, DEFAULT_LISTING, null, size + 1);
  const { rows } = await pool.query<SessionRow>({
    name: preparedName(statement.text),
    text: statement.text,
    values: statement.values,
  });
  const page = rows.slice(0, size);
  const last = page.at(-1);
  return {
    items: page.map(sessionFromRow),
    // Not the API's signed cursor (the capacity benchmark reads the first page only).
    nextCursor: rows.length > size && last !== undefined ? `${last.cursor_key}/${last.id}` : null,
  };
}

/** The name packages/domain/src/messages/sql.ts gives a statement, so both servers prepare alike. */
const preparedName = (text: string) =>
  `threadstore_${createHash('sha256').update(text).digest('base64url').slice(0, 24)}`;

async function append(actor: Actor, action: string, sessionId: string, messages: NewMessage[]) {
  // Quiet, as the API runs it (its change feed announces appends after their commit): the
  // session trigger does not NOTIFY, so appends group-commit.
  const statement = appendStatement(actor, action, sessionId, messages.map(prepare), { quiet: true });
  // Named like the API's (packages/domain/src/messages/sql.ts), so both run the same prepared SQL.
  const { rows } = await pool.query<MessageRow>({
    name: preparedName(statement.text),
    text: statement.text,
    values: statement.values,
  });
  return rows.length === 0 ? null : rows.map(toMessage);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/healthz') return send(res, 200, { status: 'ok' });
  if (url.pathname === '/debug/stats') return send(res, 200, stats());
  const anonymousId = req.headers['x-session-id'];
  if (typeof anonymousId !== 'string') return send(res, 401, { error: { message: 'no principal' } });
  const actor: Actor = { principal: { kind: 'anonymous', anonymousId }, requestId: randomUUID() };

  switch (url.pathname) {
    case '/trpc/messages.history': {
      const page = await history(anonymousId, JSON.parse(url.searchParams.get('input') ?? '{}'));
      return page === null ? notFound(res) : ok(res, page);
    }
    case '/trpc/sessions.list': {
      return ok(res, await listSessions(anonymousId, JSON.parse(url.searchParams.get('input') ?? '{}')));
    }
    case '/trpc/messages.append': {
      const { sessionId, ...message } = JSON.parse(await readBody(req)) as NewMessage & { sessionId: string };
      const stored = await append(actor, 'messages.append', sessionId, [message]);
      return stored === null ? notFound(res) : ok(res, stored[0]);
    }
    case '/trpc/messages.appendMany': {
      const input = JSON.parse(await readBody(req)) as { sessionId: string; messages: NewMessage[] };
      const stored = await append(actor, 'messages.appendMany', input.sessionId, input.messages);
      return stored === null ? notFound(res) : ok(res, { items: stored });
    }
    default:
      return send(res, 404, { error: { message: 'no such procedure' } });
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const ok = (res: ServerResponse, data: unknown) => send(res, 200, { result: { data } });
const notFound = (res: ServerResponse) => send(res, 404, { error: { message: 'session not found' } });

function send(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

// For bench/capacity: what the API's /metrics tells about its pool and event loop.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

/** Callers waiting for a pooled connection now, and the event loop's delay since the last call. */
function stats() {
  const result = {
    poolWaiting: pool.waitingCount,
    poolTotal: pool.totalCount,
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    loopDelayMaxMs: loopDelay.max / 1e6,
  };
  loopDelay.reset();
  return result;
}

const server = createServer((req, res) => {
  handle(req, res).catch((error: unknown) => {
    console.error(error);
    if (!res.headersSent) send(res, 500, { error: { message: String(error) } });
  });
});
server.listen(Number(process.env.BENCH_PORT), '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void pool.end();
});
