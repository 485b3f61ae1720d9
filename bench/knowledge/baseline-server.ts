/**
 * The baseline: a bare `node:http` + `pg` server answering knowledge.search, memories.context and messages.search
 * on the API's paths, in its JSON shape, running the very statements the API runs (built by the
 * same domain functions) and mapping rows with the same functions, on a pool of the same size.
 * It leaves out what the API adds around that SQL: tRPC, zod validation, API-key
 * authentication (the caller's user id comes in a header), the ORM's connection handling,
 * error translation, logging. API ÷ baseline is the price of that stack.
 *
 * Run by main.ts as a child process; it reads BENCH_DATABASE_URL, BENCH_PORT, BENCH_POOL_MAX.
 */
import { createServer } from 'node:http';
import {
  DEFAULT_CONTENT_LIMITS,
  ZMemoriesContextInput,
  ZSearchKnowledgeInput,
  ZSearchMessagesInput,
} from '@threadstore/contract';
import { connectionSettingsFromUrl, pgClientConfig } from '@threadstore/db';
import {
  contextOf,
  knowledgeSearchPage,
  knowledgeSearchStatement,
  memoriesContextStatement,
  messageSearchPage,
  messageSearchStatement,
  pageSize,
  type ContextRow,
  type KnowledgeHitRow,
  type MessageHitRow,
} from '@threadstore/domain';
import pg from 'pg';

const pool = new pg.Pool({
  ...pgClientConfig(connectionSettingsFromUrl(process.env.BENCH_DATABASE_URL!, 'threadstore-bench-baseline')),
  max: Number(process.env.BENCH_POOL_MAX),
});

async function answer(path: string, input: unknown, userId: string): Promise<unknown> {
  if (path === '/trpc/knowledge.search') {
    const parsed = ZSearchKnowledgeInput.parse(input);
    const size = pageSize(parsed.limit, DEFAULT_CONTENT_LIMITS);
    const statement = knowledgeSearchStatement(userId, parsed, size);
    const { rows } = await pool.query<KnowledgeHitRow>(statement.text, statement.values);
    return knowledgeSearchPage(rows, size, statement.binding);
  }
  if (path === '/trpc/memories.context') {
    const statement = memoriesContextStatement(userId, ZMemoriesContextInput.parse(input));
    const { rows } = await pool.query<ContextRow>(statement.text, statement.values);
    return contextOf(rows);
  }
  if (path === '/trpc/messages.search') {
    const parsed = ZSearchMessagesInput.parse(input);
    const size = pageSize(parsed.limit, DEFAULT_CONTENT_LIMITS);
    const statement = messageSearchStatement({ userId }, parsed, size);
    const { rows } = await pool.query<MessageHitRow>(statement.text, statement.values);
    return messageSearchPage(rows, size, statement.binding);
  }
  throw new Error(`no route ${path}`);
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/healthz') {
    res.writeHead(200).end('ok');
    return;
  }
  answer(url.pathname, JSON.parse(url.searchParams.get('input') ?? '{}'), String(req.headers['x-bench-user']))
    .then((data) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: { data } }));
    })
    .catch((error: unknown) => {
      res.writeHead(500).end(String(error));
    });
});
server.listen(Number(process.env.BENCH_PORT), '127.0.0.1');
process.once('SIGTERM', () => {
  server.close();
  void pool.end().then(() => process.exit(0));
});
