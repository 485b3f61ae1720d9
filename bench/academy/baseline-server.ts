/**
 * The academy baseline: a bare `node:http` + `pg` server answering academy.leaderboard,
 * academy.rank and academy.award on the same paths and in the same JSON shapes as the API
 * (`{ result: { data } }`), running the same SQL statements (the domain's own statement builders),
 * on a pool of the same size, authenticated the same way (X-Api-Key, looked up by its hash). What
 * it leaves out is everything the API adds around that SQL: tRPC, zod validation of input and
 * output, the ORM's connection handling, error translation, rate limiting, logging.
 *
 * Run by main.ts as a child process; it reads BENCH_DATABASE_URL, BENCH_PORT, BENCH_POOL_MAX.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connectionSettingsFromUrl, pgClientConfig } from '@threadstore/db';
import {
  awardStatement,
  boardNeighboursStatement,
  boardPageStatement,
  boardRowStatement,
  currentWeek,
  hashApiKey,
  ranksStatement,
  type Actor,
  type BoardRow,
} from '@threadstore/domain';
import pg from 'pg';

const pool = new pg.Pool({
  ...pgClientConfig(connectionSettingsFromUrl(process.env.BENCH_DATABASE_URL!, 'threadstore-bench-baseline')),
  max: Number(process.env.BENCH_POOL_MAX),
});

type Period = 'allTime' | 'week';

function send(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function authenticate(req: IncomingMessage): Promise<{ userId: string; keyId: string } | null> {
  const key = req.headers['x-api-key'];
  if (typeof key !== 'string') return null;
  const { rows } = await pool.query<{ id: string; user_id: string }>(
    `select k.id, k.user_id from api_keys k join users u on u.id = k.user_id
      where k.key_hash = $1 and k.revoked_at is null and u.deleted_at is null`,
    [hashApiKey(key)],
  );
  return rows[0] === undefined ? null : { userId: rows[0].user_id, keyId: rows[0].id };
}

const entry = (row: BoardRow, rank: number, me: string) => ({
  rank,
  displayName: row.display_name,
  level: row.level,
  xp: Number(row.xp),
  isYou: row.user_id === me,
});

async function ranks(period: Period, week: string | null, xps: string[]): Promise<Map<string, number>> {
  const statement = ranksStatement(period, week, xps);
  const { rows } = await pool.query<{ xp: string; rank: string }>(statement.text, statement.values);
  return new Map(rows.map((row) => [row.xp, Number(row.rank)]));
}

/** The first page (the benchmark reads the top 50), ranks as the API gives them. */
async function leaderboard(me: string, period: Period, limit: number) {
  const week = period === 'week' ? currentWeek() : null;
  const page = boardPageStatement(period, week, null, limit + 1);
  const rows = (await pool.query<BoardRow>(page.text, page.values)).rows;
  const shown = rows.slice(0, limit);
  const firstRank = shown.length === 0 ? 1 : (await ranks(period, week, [shown[0]!.xp])).get(shown[0]!.xp)!;
  let previous: { xp: string; rank: number } | null = null;
  const items = shown.map((row, n) => {
    const rank = previous !== null && previous.xp === row.xp ? previous.rank : n === 0 ? firstRank : n + 1;
    previous = { xp: row.xp, rank };
    return entry(row, rank, me);
  });
  return { period, week, items, nextCursor: rows.length > limit ? 'baseline-does-not-page' : null };
}

async function rank(me: string, period: Period, neighbours: number) {
  const week = period === 'week' ? currentWeek() : null;
  const own = boardRowStatement(period, week, me);
  const mine = (await pool.query<BoardRow>(own.text, own.values)).rows[0];
  if (mine === undefined) return { period, week, you: null, around: [] };
  const at = { xp: mine.xp, userId: me };
  const ahead = boardNeighboursStatement(period, week, at, 'ahead', neighbours);
  const behind = boardNeighboursStatement(period, week, at, 'behind', neighbours);
  const [above, below] = await Promise.all([
    pool.query<BoardRow>(ahead.text, ahead.values),
    pool.query<BoardRow>(behind.text, behind.values),
  ]);
  const rows = [...above.rows.reverse(), mine, ...below.rows];
  const byXp = await ranks(
    period,
    week,
    rows.map((row) => row.xp),
  );
  const around = rows.map((row) => entry(row, byXp.get(row.xp)!, me));
  return { period, week, you: around.find((item) => item.isYou)!, around };
}

async function award(caller: { userId: string; keyId: string }, input: Record<string, unknown>) {
  const actor: Actor = {
    principal: {
      kind: 'apiKey',
      userId: caller.userId,
      role: 'admin',
      apiKeyId: caller.keyId,
      scopes: ['academy.award'],
    },
    requestId: null,
  };
  const statement = awardStatement(
    actor,
    {
      userId: String(input['userId']),
      amount: Number(input['amount']),
      reason: String(input['reason']),
      sourceRef: `event:${String(input['sourceEventId'])}`,
      metadata: {},
    },
    'academy.award',
  );
  const { rows } = await pool.query<{ id: string; amount: number; reason: string; created_at: Date }>(
    statement.text,
    statement.values,
  );
  const row = rows[0];
  return row === undefined
    ? { awarded: false }
    : {
        transactionId: row.id,
        awarded: true,
        amount: row.amount,
        reason: row.reason,
        sourceEventId: input['sourceEventId'],
        createdAt: new Date(row.created_at).toISOString(),
      };
}

async function handle(req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/healthz') return send(res, 200, { ok: true });
  const caller = await authenticate(req);
  if (caller === null) return send(res, 401, { error: { message: 'unauthorized' } });
  const input = (
    req.method === 'POST' ? JSON.parse(await readBody(req)) : JSON.parse(url.searchParams.get('input') ?? '{}')
  ) as Record<string, unknown>;
  const period = (input['period'] as Period | undefined) ?? 'allTime';
  switch (url.pathname) {
    case '/trpc/academy.leaderboard':
      return send(res, 200, {
        result: { data: await leaderboard(caller.userId, period, Number(input['limit'] ?? 50)) },
      });
    case '/trpc/academy.rank':
      return send(res, 200, { result: { data: await rank(caller.userId, period, Number(input['neighbours'] ?? 2)) } });
    case '/trpc/academy.award':
      return send(res, 200, { result: { data: await award(caller, input) } });
    default:
      return send(res, 404, { error: { message: 'not found' } });
  }
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
