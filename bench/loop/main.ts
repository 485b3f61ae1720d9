/**
 * The conversation loop's benchmark (`pnpm bench:loop`): three figures, 3 rounds each, median and
 * range, with the machine's load average beside each.
 *  1. First-token latency the loop adds: chat.send + chat.stream through an API process to the
 *     first delta, against calling the same fake OpenAI-compatible model directly (same run).
 *  2. Change-feed latency: 1,000 sessions.watch subscriptions open on API process B; appends
 *     committed with bare `pg` (the domain's own append statement) at a fixed rate; time from
 *     commit to the event at the subscriber. Plus B's memory per open subscription.
 *  3. Database writes per 1,000-token answer (rows written per table, from pg_stat_user_tables).
 * DATABASE_URL picks a server (the benchmark creates and replaces its own database there);
 * otherwise an embedded PostgreSQL under bench/.data.
 * `--before <checkout>`: also measures the first token through that checkout's built API (an
 * earlier commit, `pnpm install && turbo run build` done there), in the same rounds, alternating
 * which goes first, so a change is judged against its own baseline under the same load.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONTENT_LIMITS } from '@threadstore/contract';
import { createThreadstoreClient, type ThreadstoreClient } from '@threadstore/client';
import { startFakeModel, type FakeModel } from '@threadstore/api/testing';
import { appendStatement, prepareMessage, type Actor } from '@threadstore/domain';
import { EventSource } from 'eventsource';
import pg from 'pg';
import { openBenchDatabase } from '../api/database.ts';
import { startApi, type ServerProcess } from '../api/processes.ts';
import { describeMachine, formatNumber, goalRow, median, spread, table } from '../api/report.ts';
import { percentile } from '../api/load.ts';

const ROUNDS = 3;
const BEFORE_FLAG = process.argv.indexOf('--before');
const BEFORE_CHECKOUT = BEFORE_FLAG === -1 ? null : process.argv[BEFORE_FLAG + 1]!;
const FIRST_TOKEN_REQUESTS = 30;
const FIRST_TOKEN_RATE_PER_S = 2;
const WATCHERS = 1_000;
const APPENDS = 150;
const APPEND_RATE_PER_S = 15;
const ANSWER_TOKENS = 1_000;
const STATS_FLUSH_WAIT_MS = 11_500; // backends report table statistics at least every 10 s when idle

const log = (line: string) => process.stderr.write(`${line}\n`);
const load = () => loadavg()[0]!.toFixed(2);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts `count` tasks at a fixed rate (open loop: a slow one never delays the next start). */
async function atFixedRate<T>(count: number, perSecond: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const started = performance.now();
  const pending: Promise<T>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(task(i));
  }
  return Promise.all(pending);
}

/** The commit a checkout is at, for the report. */
function describeCheckout(dir: string): string {
  try {
    return `commit ${execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()}`;
  } catch {
    return 'not a git checkout';
  }
}

function p(values: number[], q: number): number {
  return percentile(Float64Array.from(values).sort(), q);
}

/** Time to the first streamed token when calling the fake model directly. */
async function directFirstToken(model: FakeModel): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${model.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'fake-1', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('the model ended without a token');
    text += decoder.decode(value, { stream: true });
    if (text.includes('"content"')) break;
  }
  const elapsed = performance.now() - started;
  await reader.cancel();
  return elapsed;
}

/** Time from chat.send to the first delta of chat.stream, through the API. */
async function loopFirstToken(client: ThreadstoreClient, sessionId: string): Promise<number> {
  const started = performance.now();
  const turn = await client.chat.send.mutate({ sessionId, content: 'hi', wait: false });
  return new Promise((resolve, reject) => {
    const subscription = client.chat.stream.subscribe(
      { turnId: turn.id },
      {
        onData: ({ data }) => {
          if (data.type !== 'delta') return;
          resolve(performance.now() - started);
          subscription.unsubscribe();
        },
        onError: reject,
      },
    );
  });
}

async function main(): Promise<void> {
  const machine = describeMachine();
  const db = await openBenchDatabase(process.env.DATABASE_URL, log, { database: 'threadstore_bench_loop' });
  const model = await startFakeModel({ tokens: ['Hello', ' there', '!'] });
  const chatEnv = {
    CHAT_RESPONDER: 'openai',
    CHAT_MODEL: 'fake-1',
    CHAT_OPENAI_BASE_URL: model.url,
    CHAT_CONCURRENCY: 'enqueue',
  };
  const apiA = await startApi(db.url, 10, undefined, chatEnv);
  const apiB = await startApi(db.url, 10, undefined, chatEnv);
  const apiBefore =
    BEFORE_CHECKOUT === null
      ? null
      : await startApi(db.url, 10, undefined, chatEnv, join(BEFORE_CHECKOUT, 'apps/api/dist/main.js'));
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  const out: string[] = [];
  try {
    out.push('# Conversation loop benchmark', '', table(['', ''], Object.entries(machine)), '');
    const firstToken = await benchFirstToken(model, apiA, apiBefore);
    const feed = await benchChangeFeed(pool, apiB);
    const writes = await benchWrites(pool, model, apiA);
    out.push(
      '## First token: what the loop adds over calling the model directly',
      '',
      `${FIRST_TOKEN_REQUESTS} requests per round at ${FIRST_TOKEN_RATE_PER_S}/s (open loop), each path; loop = chat.send (commit, turn) + chat.stream (SSE) to the first delta, on API process A.`,
      '',
      table(
        ['round', 'direct p50 ms', 'loop p50 ms', 'added p50 ms', 'direct p99 ms', 'loop p99 ms', 'load (1 min)'],
        firstToken.map((r, i) => [
          String(i + 1),
          formatNumber(r.directP50),
          formatNumber(r.loopP50),
          formatNumber(r.loopP50 - r.directP50),
          formatNumber(r.directP99),
          formatNumber(r.loopP99),
          r.load,
        ]),
      ),
      '',
      `Added p50, median [range] of ${ROUNDS} rounds: ${spread(firstToken.map((r) => r.loopP50 - r.directP50))} ms`,
      ...(apiBefore === null
        ? []
        : [
            '',
            `The same requests through the API built from \`${BEFORE_CHECKOUT}\` (${describeCheckout(BEFORE_CHECKOUT!)}), in the same rounds:`,
            '',
            table(
              ['round', 'before: loop p50 ms', 'before: added p50 ms', 'after ÷ before (added p50)', 'load (1 min)'],
              firstToken.map((r, i) => [
                String(i + 1),
                formatNumber(r.beforeP50!),
                formatNumber(r.beforeP50! - r.directP50),
                formatNumber((r.loopP50 - r.directP50) / (r.beforeP50! - r.directP50)),
                r.load,
              ]),
            ),
            '',
            `After ÷ before, added p50, median [range]: ${spread(firstToken.map((r) => (r.loopP50 - r.directP50) / (r.beforeP50! - r.directP50)))}`,
          ]),
      '',
      '## Change feed: committed append → event at a subscriber on another API process',
      '',
      `${WATCHERS} sessions.watch subscriptions open on API process B (one per session, each past its first read); ${APPENDS} appends per round at ${APPEND_RATE_PER_S}/s committed with bare pg (the domain's append statement). An event not seen within 10 s counts as not received.`,
      '',
      table(
        ['round', 'p50 ms', 'p99 ms', 'max ms', 'received', 'B memory per subscription KiB', 'load (1 min)'],
        feed.rounds.map((r, i) => [
          String(i + 1),
          formatNumber(r.p50),
          formatNumber(r.p99),
          formatNumber(r.max),
          `${r.received}/${APPENDS}`,
          i === 0 ? formatNumber(feed.memoryPerSubscriptionKiB) : '',
          r.load,
        ]),
      ),
      '',
      `p99, median [range]: ${spread(feed.rounds.map((r) => r.p99))} ms; B's RSS grew ${formatNumber(feed.memoryPerSubscriptionKiB)} KiB per open subscription (after GC, ${WATCHERS} opened).`,
      '',
      `## Database writes per ${ANSWER_TOKENS}-token answer`,
      '',
      `One chat.send answered with ${ANSWER_TOKENS} streamed tokens (the partial answer written at most every 250 ms); rows written per table, from pg_stat_user_tables.`,
      '',
      table(
        [
          'round',
          'answer ms',
          'chat_messages ins/upd',
          'chat_turns ins/upd',
          'chat_sessions upd',
          'audit_log ins',
          'total row writes',
          'load (1 min)',
        ],
        writes.map((r, i) => [
          String(i + 1),
          formatNumber(r.answerMs),
          `${r.tables.chat_messages?.ins ?? 0}/${r.tables.chat_messages?.upd ?? 0}`,
          `${r.tables.chat_turns?.ins ?? 0}/${r.tables.chat_turns?.upd ?? 0}`,
          String(r.tables.chat_sessions?.upd ?? 0),
          String(r.tables.audit_log?.ins ?? 0),
          String(r.total),
          r.load,
        ]),
      ),
      '',
      `Total row writes per answer, median [range]: ${spread(writes.map((r) => r.total))}`,
      '',
      '## Goals',
      '',
      table(
        ['goal', 'target', 'measured (median of rounds)', 'verdict'],
        [
          goalRow({
            name: 'first-token latency added, p50',
            measured: median(firstToken.map((r) => r.loopP50 - r.directP50)),
            target: 5,
            kind: 'atMost',
            unit: ' ms',
          }),
          goalRow({
            name: 'change feed p99 with 1,000 subscriptions',
            measured: median(feed.rounds.map((r) => r.p99)),
            target: 50,
            kind: 'atMost',
            unit: ' ms',
          }),
        ],
      ),
      '',
    );
    process.stdout.write(out.join('\n'));
  } finally {
    await pool.end();
    await apiA.stop();
    await apiB.stop();
    await apiBefore?.stop();
    await model.close();
    await db.stop();
  }
}

async function benchFirstToken(model: FakeModel, api: ServerProcess, before: ServerProcess | null) {
  const clientOf = (server: ServerProcess) =>
    createThreadstoreClient({
      url: `http://127.0.0.1:${server.port}/trpc`,
      auth: { anonymousId: randomUUID() },
      EventSource,
    });
  const client = clientOf(api);
  const beforeClient = before === null ? null : clientOf(before);
  /** One session per request (the loop allows one writer per session), then the requests at a fixed rate. */
  const measure = async (target: ThreadstoreClient) => {
    const sessions = await Promise.all(
      Array.from({ length: FIRST_TOKEN_REQUESTS }, () => target.sessions.create.mutate({})),
    );
    return atFixedRate(FIRST_TOKEN_REQUESTS, FIRST_TOKEN_RATE_PER_S, (i) => loopFirstToken(target, sessions[i]!.id));
  };
  const rounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    log(`first token, round ${round + 1}`);
    const direct = await atFixedRate(FIRST_TOKEN_REQUESTS, FIRST_TOKEN_RATE_PER_S, () => directFirstToken(model));
    // With a "before" build, the two go first in turn, so neither always gets the quieter half.
    const beforeFirst = beforeClient !== null && round % 2 === 1;
    const viaBefore = beforeFirst ? await measure(beforeClient) : null;
    const viaLoop = await measure(client);
    const viaBeforeAfter = beforeClient !== null && !beforeFirst ? await measure(beforeClient) : null;
    const beforeRuns = viaBefore ?? viaBeforeAfter;
    rounds.push({
      directP50: p(direct, 0.5),
      directP99: p(direct, 0.99),
      loopP50: p(viaLoop, 0.5),
      loopP99: p(viaLoop, 0.99),
      beforeP50: beforeRuns === null ? null : p(beforeRuns, 0.5),
      load: load(),
    });
  }
  return rounds;
}

async function benchChangeFeed(pool: pg.Pool, api: ServerProcess) {
  const anonymousId = randomUUID();
  const actor: Actor = { principal: { kind: 'anonymous', anonymousId }, requestId: null };
  const { rows } = await pool.query<{ id: string }>(
    `insert into chat_sessions (anonymous_id, title) select $1, 'watched ' || g from generate_series(1, $2) g returning id`,
    [anonymousId, WATCHERS],
  );
  const sessionIds = rows.map(({ id }) => id);
  const client = createThreadstoreClient({
    url: `http://127.0.0.1:${api.port}/trpc`,
    auth: { anonymousId },
    EventSource,
  });
  const before = await api.memory();
  const arrivals = new Map<string, number>();
  // Ready = its first event (the session's state) arrived: its first read is done.
  let opened = 0;
  const ready = new Set<string>();
  let failed = 0;
  const subscriptions: { unsubscribe(): void }[] = [];
  // Opened 50 at a time, as browsers arriving over a few seconds would.
  for (const [index, sessionId] of sessionIds.entries()) {
    subscriptions.push(
      client.sessions.watch.subscribe(
        { sessionId },
        {
          onStarted: () => opened++,
          onData: ({ data }) => {
            ready.add(sessionId);
            if (data.type === 'message') arrivals.set(data.message.content, performance.now());
          },
          onError: (error) => {
            failed++;
            log(`watch failed: ${String(error)}`);
          },
        },
      ),
    );
    if (index % 50 === 49) await sleep(100);
  }
  const deadline = Date.now() + 120_000;
  while (ready.size < WATCHERS && Date.now() < deadline) await sleep(200);
  log(`${opened} subscriptions open, ${ready.size} ready, ${failed} failed`);
  await sleep(2_000);
  const after = await api.memory();
  const memoryPerSubscriptionKiB = (after.rss - before.rss) / WATCHERS / 1024;
  const rounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    log(`change feed, round ${round + 1}`);
    const latencies = await atFixedRate(APPENDS, APPEND_RATE_PER_S, async (i) => {
      const marker = `r${round}-a${i}-${randomUUID()}`;
      const sessionId = sessionIds[(round * APPENDS + i) % sessionIds.length]!;
      const message = prepareMessage({ role: 'user', content: marker }, DEFAULT_CONTENT_LIMITS, (name) => name);
      const statement = appendStatement(actor, 'messages.append', sessionId, [message]);
      await pool.query(statement.text, statement.values);
      const committed = performance.now();
      const until = Date.now() + 10_000;
      while (!arrivals.has(marker) && Date.now() < until) await sleep(1);
      const arrived = arrivals.get(marker);
      return arrived === undefined ? null : Math.max(0, arrived - committed);
    });
    const received = latencies.filter((value): value is number => value !== null);
    rounds.push({
      p50: p(received, 0.5),
      p99: p(received, 0.99),
      max: Math.max(...received),
      received: received.length,
      load: load(),
    });
  }
  for (const subscription of subscriptions) subscription.unsubscribe();
  return { rounds, memoryPerSubscriptionKiB };
}

type TableWrites = Record<string, { ins: number; upd: number }>;

async function tableWrites(pool: pg.Pool): Promise<TableWrites> {
  const { rows } = await pool.query<{ relname: string; ins: string; upd: string }>(
    `select relname, n_tup_ins as ins, n_tup_upd as upd from pg_stat_user_tables
      where relname in ('chat_messages', 'chat_turns', 'chat_sessions', 'audit_log')`,
  );
  return Object.fromEntries(rows.map((r) => [r.relname, { ins: Number(r.ins), upd: Number(r.upd) }]));
}

async function benchWrites(pool: pg.Pool, model: FakeModel, api: ServerProcess) {
  const client = createThreadstoreClient({
    url: `http://127.0.0.1:${api.port}/trpc`,
    auth: { anonymousId: randomUUID() },
    EventSource,
  });
  const rounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    log(`writes per answer, round ${round + 1}`);
    const session = await client.sessions.create.mutate({});
    await sleep(STATS_FLUSH_WAIT_MS);
    const before = await tableWrites(pool);
    model.script({ tokens: Array.from({ length: ANSWER_TOKENS }, (_, i) => ` t${i}`), delayMs: 1 });
    const started = performance.now();
    const turn = await client.chat.send.mutate({ sessionId: session.id, content: 'write a lot' });
    const answerMs = performance.now() - started;
    if (turn.answer?.completionTokens !== ANSWER_TOKENS)
      throw new Error(`the answer had ${turn.answer?.completionTokens} tokens`);
    await sleep(STATS_FLUSH_WAIT_MS);
    const after = await tableWrites(pool);
    const tables: TableWrites = {};
    let total = 0;
    for (const [name, counts] of Object.entries(after)) {
      const ins = counts.ins - (before[name]?.ins ?? 0);
      const upd = counts.upd - (before[name]?.upd ?? 0);
      tables[name] = { ins, upd };
      total += ins + upd;
    }
    rounds.push({ answerMs, tables, total, load: load() });
  }
  return rounds;
}

await main();
