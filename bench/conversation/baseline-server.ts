/**
 * The baseline of shares.view: a bare `node:http` + `pg` server answering
 * `GET /view?token=…` with the very statements the API runs (OPEN_SHARE, then SHARED_PAGE, as
 * named prepared statements), in the API's JSON shape. It leaves out tRPC, zod, the ORM's
 * connection handling, the rate limiter and the bounded share of calls without credentials.
 *
 * Run by main.ts as a child process; it reads BENCH_DATABASE_URL, BENCH_PORT, BENCH_POOL_MAX.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { connectionSettingsFromUrl, pgClientConfig } from '@threadstore/db';
import { OPEN_SHARE, SHARED_PAGE } from '@threadstore/domain';
import pg from 'pg';

const pool = new pg.Pool({
  ...pgClientConfig(connectionSettingsFromUrl(process.env.BENCH_DATABASE_URL!, 'threadstore-bench-baseline')),
  max: Number(process.env.BENCH_POOL_MAX),
});

const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const reply = (status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };
  if (url.pathname === '/healthz') return reply(200, { ok: true });
  const token = url.searchParams.get('token') ?? '';
  const hash = createHash('sha256').update(token).digest('hex');
  (async () => {
    const share = await pool.query({ name: 'open', text: OPEN_SHARE, values: [hash] });
    const row = share.rows[0] as
      { session_id: string; mode: string; up_to_seq: string | null; title: string | null } | undefined;
    if (row === undefined) return reply(404, { error: { message: 'share not found' } });
    const page = await pool.query({ name: 'page', text: SHARED_PAGE, values: [row.session_id, 0, row.up_to_seq, 201] });
    const items = page.rows.slice(0, 200).map((m: Record<string, unknown>) => ({
      seq: Number(m.seq),
      parentSeq: m.parent_seq === null ? null : Number(m.parent_seq),
      role: m.role,
      content: m.content,
      chapter: m.chapter,
      model: m.model,
      createdAt: m.created_at,
    }));
    reply(200, {
      result: { data: { title: row.title, mode: row.mode, items, nextAfterSeq: page.rows.length > 200 ? 200 : null } },
    });
  })().catch((error: unknown) => reply(500, { error: { message: String(error) } }));
});
server.listen(Number(process.env.BENCH_PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => void pool.end()));
