/**
 * Bulk import (issue 8, goals 4 and 5), against a bare baseline measured in the same run.
 *
 *   api:      messages.import through the real API process (apps/api/dist/main.js): NDJSON bodies
 *             of BENCH_IMPORT_REQUEST messages each (one line per message, 200–800 characters of
 *             prose, 100 sessions of one owner), BENCH_IMPORT_CLIENTS requests in flight at once,
 *             BENCH_IMPORT_MESSAGES messages a round. Timed from the first byte sent to the last
 *             answer: parsing, validation, sanitizing, fingerprints, COPY, the move with its seqs,
 *             search queue, counters and audit rows.
 *   baseline: the same rows (ids, seqs, keys and fingerprints computed beforehand, untimed) COPYed
 *             by bare `pg` + pg-copy-streams straight into chat_messages, on as many connections
 *             as the API has requests in flight. The floor: no parsing, no checks, no staging,
 *             no search queue, counters or audit.
 *   lag:      the same API import with the worker's search indexer running beside it (the loops of
 *             apps/worker with its defaults: BENCH_INDEX_LOOPS (2) loops of drainSearchQueue,
 *             batches of BENCH_INDEX_BATCH (1,000), every 1 s), while a probe appends one message
 *             through the API every 500 ms and polls messages.search until it is found (the lag a
 *             user sees), and a sampler reads the age of the oldest queued imported message (the
 *             longest an imported message has been unsearchable) and of the oldest queued other
 *             one. Runs until the queue is empty. BENCH_IMPORT_PHASES=lag runs this phase only.
 *
 * Median and range of BENCH_ROUNDS (3) rounds, API and baseline alternating; the 1-minute load
 * average beside each figure. BENCH_CPU_PROFILE_DIR profiles the API process. DATABASE_URL
 * selects a server (the benchmark creates its own database there), else an embedded PostgreSQL 18
 * under bench/.data.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { DEFAULT_CONTENT_LIMITS } from '@threadstore/contract';
import { connectionSettingsFromUrl, createOrm } from '@threadstore/db';
import { drainSearchQueue, prepareMessage } from '@threadstore/domain';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { openBenchDatabase } from '../api/database.ts';
import { makeCorpus, randomContent } from '../api/dataset.ts';
import { startApi, treeCpuSeconds, type ServerProcess } from '../api/processes.ts';
import { formatNumber, median, spread, table } from '../api/report.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MESSAGES = Number(process.env.BENCH_IMPORT_MESSAGES ?? 200_000);
const PER_REQUEST = Number(process.env.BENCH_IMPORT_REQUEST ?? 25_000);
const CLIENTS = Number(process.env.BENCH_IMPORT_CLIENTS ?? 2);
const SESSIONS = 100;
const GOAL_MSG_PER_SECOND = 50_000;
const GOAL_LAG_SECONDS = 10;
const PHASES = new Set((process.env.BENCH_IMPORT_PHASES ?? 'throughput,lag').split(','));
const INDEX_LOOPS = Number(process.env.BENCH_INDEX_LOOPS ?? 2);
const INDEX_BATCH = Number(process.env.BENCH_INDEX_BATCH ?? 1_000);

const lines: string[] = [];
const log = (line: string) => {
  console.log(line);
  lines.push(line);
};
const load = () => loadavg()[0]!;

/** One round's figure with the 1-minute load average when it started. */
interface Sample {
  value: number;
  load: number;
}
/** One round's data: the NDJSON bodies for the API and the COPY text for the baseline, same messages. */
interface RoundData {
  sessionIds: string[];
  bodies: Buffer[];
  /** Per baseline connection, its share of the sessions' rows in COPY text. */
  copies: string[];
}

function makeRound(corpus: string, round: number, withCopies: boolean): RoundData {
  const sessionIds = Array.from({ length: SESSIONS }, () => randomUUID());
  const bodies: Buffer[] = [];
  const copies: string[][] = Array.from({ length: CLIENTS }, () => []);
  const seqs = new Map<string, number>();
  let body: string[] = [];
  for (let i = 0; i < MESSAGES; i++) {
    const sessionId = sessionIds[i % SESSIONS]!;
    const line = {
      sessionId,
      role: i % 2 === 0 ? ('user' as const) : ('assistant' as const),
      content: randomContent(corpus),
      clientMessageId: `r${round}-${i}`,
    };
    body.push(JSON.stringify(line));
    if (body.length === PER_REQUEST) {
      bodies.push(Buffer.from(`${body.join('\n')}\n`));
      body = [];
    }
    if (withCopies) {
      const { sessionId: _, ...input } = line;
      const m = prepareMessage(input, DEFAULT_CONTENT_LIMITS);
      const seq = (seqs.get(sessionId) ?? 0) + 1;
      seqs.set(sessionId, seq);
      const escaped = m.content.replace(
        /[\\\n\r\t]/g,
        (c) => ({ '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!,
      );
      copies[(i % SESSIONS) % CLIENTS]!.push(
        `${m.id}\t${sessionId}\t${seq}\t${m.role}\t${escaped}\t${m.metadata}\t${m.clientMessageId}\t${m.requestHash}\tf\n`,
      );
    }
  }
  if (body.length > 0) bodies.push(Buffer.from(`${body.join('\n')}\n`));
  return { sessionIds, bodies, copies: copies.map((rows) => rows.join('')) };
}

/**
 * fetch, sent again when the connection fails before an answer (a keep-alive socket the server
 * closed just as it was reused: seen once under load 13). Safe for every call here: an import
 * is idempotent by its keys, a probe's append has no key but a lost one only delays the probe.
 */
async function send(url: string, init: RequestInit): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url, init);
    } catch (error) {
      if (attempt >= 3) throw error;
      console.error(`bench: ${url} failed (${String(error)}); sending it again`);
    }
  }
}

async function createSessions(client: pg.Client, anonymousId: string, sessionIds: string[]): Promise<void> {
  await client.query(`insert into chat_sessions (id, anonymous_id) select unnest($1::uuid[]), $2`, [
    sessionIds,
    anonymousId,
  ]);
}

/** Sends every body to messages.import, `CLIENTS` at a time; the wall time in seconds. */
async function importThroughApi(api: ServerProcess, anonymousId: string, bodies: Buffer[]): Promise<number> {
  const started = performance.now();
  let nextBody = 0;
  const client = async () => {
    for (let i = nextBody++; i < bodies.length; i = nextBody++) {
      const response = await send(`http://127.0.0.1:${api.port}/trpc/messages.import`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'x-session-id': anonymousId },
        body: bodies[i]!,
      });
      const answer = (await response.json()) as {
        result?: { data: { lines: number; imported: number; unchanged: number } };
        error?: unknown;
      };
      const data = answer.result?.data;
      if (response.status !== 200 || data === undefined || data.imported + data.unchanged !== data.lines) {
        throw new Error(`import request failed: ${response.status} ${JSON.stringify(answer).slice(0, 500)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  return (performance.now() - started) / 1000;
}

/** The baseline: each connection COPYs its share of the rows straight into chat_messages. */
async function copyBare(url: string, copies: string[]): Promise<number> {
  const clients = await Promise.all(
    copies.map(async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      return client;
    }),
  );
  try {
    const started = performance.now();
    await Promise.all(
      copies.map(async (text, i) => {
        const client = clients[i]!;
        await client.query('begin');
        const copy = client.query(
          copyFrom(
            'copy chat_messages (id, session_id, seq, role, content, metadata, client_message_id, request_hash, sanitized) from stdin',
          ),
        );
        const chunks = function* () {
          for (let at = 0; at < text.length; at += 256 * 1024) yield text.slice(at, at + 256 * 1024);
        };
        await pipeline(Readable.from(chunks()), copy);
        await client.query('commit');
      }),
    );
    return (performance.now() - started) / 1000;
  } finally {
    await Promise.all(clients.map((client) => client.end()));
  }
}

async function backendParent(client: pg.Client): Promise<number | null> {
  try {
    const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
    const stat = readFileSync(`/proc/${rows[0]!.pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

async function main() {
  const database = await openBenchDatabase(process.env.DATABASE_URL, log, { database: 'threadstore_bench_import' });
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  const orm = await createOrm({ connection: { ...connectionSettingsFromUrl(database.url), poolMax: 4 } });
  let api: ServerProcess | undefined;
  try {
    const corpus = makeCorpus();
    const anonymousId = randomUUID();
    // BENCH_CPU_PROFILE_DIR: the API writes a .cpuprofile there when it stops (bench/api/cpu-profile-summary.ts reads it).
    api = await startApi(database.url, 10, process.env.BENCH_CPU_PROFILE_DIR);
    // The server's processes, to read their CPU: the postmaster, else (a server whose data directory
    // is not ours to read, like the machine's own) the parent of this connection's backend.
    const postmaster = database.postmasterPid ?? (await backendParent(client));
    const pgCpu = () => (postmaster === null ? Number.NaN : treeCpuSeconds(postmaster));
    const apiCpu = () => treeCpuSeconds(api!.pid);

    // Warm-up (JIT, connections, catalog caches): one small import, unmeasured.
    {
      const warm = makeRound(corpus, -1, false);
      await createSessions(client, anonymousId, warm.sessionIds);
      await importThroughApi(api, anonymousId, [warm.bodies[0]!]);
    }

    const apiRates: Sample[] = [];
    const bareRates: Sample[] = [];
    const ratios: Sample[] = [];
    const apiCpuPerMessage: number[] = [];
    const pgCpuPerMessage: number[] = [];
    const barePgCpuPerMessage: number[] = [];
    for (let round = 0; round < (PHASES.has('throughput') ? ROUNDS : 0); round++) {
      const data = makeRound(corpus, round, true);
      await createSessions(client, anonymousId, data.sessionIds);
      await client.query('checkpoint');
      const order = round % 2 === 0 ? ['api', 'bare'] : ['bare', 'api'];
      let apiRate = 0;
      let bareRate = 0;
      for (const which of order) {
        const loadBefore = load();
        const cpu0 = { api: apiCpu(), pg: pgCpu() };
        if (which === 'api') {
          const seconds = await importThroughApi(api, anonymousId, data.bodies);
          apiRate = MESSAGES / seconds;
          apiRates.push({ value: apiRate, load: loadBefore });
          apiCpuPerMessage.push(((apiCpu() - cpu0.api) / MESSAGES) * 1e6);
          pgCpuPerMessage.push(((pgCpu() - cpu0.pg) / MESSAGES) * 1e6);
        } else {
          // Its own sessions' ids: the same rows, but the API's copies already hold those seqs.
          const bareSessions = data.sessionIds.map(() => randomUUID());
          await createSessions(client, anonymousId, bareSessions);
          const remap = new Map(data.sessionIds.map((id, i) => [id, bareSessions[i]!]));
          const copies = data.copies.map((text) =>
            text.replace(
              /^([^\t]+)\t([^\t]+)\t/gm,
              (_, id: string, session: string) => `${randomUUID()}\t${remap.get(session)}\t`,
            ),
          );
          const seconds = await copyBare(database.url, copies);
          bareRate = MESSAGES / seconds;
          bareRates.push({ value: bareRate, load: loadBefore });
          barePgCpuPerMessage.push(((pgCpu() - cpu0.pg) / MESSAGES) * 1e6);
        }
        await client.query('checkpoint');
      }
      ratios.push({ value: apiRate / bareRate, load: load() });
      log(
        `round ${round + 1}: api ${formatNumber(apiRate)} msg/s, bare COPY ${formatNumber(bareRate)} msg/s, ratio ${formatNumber(apiRate / bareRate)} (load ${load().toFixed(2)})`,
      );
    }
    // The rounds' search queue is not part of the lag phase: drain it first, unmeasured.
    await drainSearchQueue(orm.em.fork(), { batchSize: 20_000 });

    // Search lag under the import.
    const lagRounds: {
      importRate: number;
      probeLags: number[];
      oldest: number;
      oldestOther: number;
      drainAfter: number;
      pgCpuPerMessage: number;
      load: number;
    }[] = [];
    for (let round = 0; round < (PHASES.has('lag') ? ROUNDS : 0); round++) {
      const data = makeRound(corpus, 100 + round, false);
      await createSessions(client, anonymousId, data.sessionIds);
      const probeSession = randomUUID();
      await createSessions(client, anonymousId, [probeSession]);
      await client.query('checkpoint');
      const loadBefore = load();
      const stop = new AbortController();
      const cpu0 = pgCpu();
      const indexer = Promise.all(
        Array.from({ length: INDEX_LOOPS }, async () => {
          while (!stop.signal.aborted) {
            await drainSearchQueue(orm.em.fork(), { batchSize: INDEX_BATCH, signal: stop.signal });
            await new Promise((resolve) => setTimeout(resolve, 1_000));
          }
        }),
      );
      const probeLags: number[] = [];
      const probes: Promise<void>[] = [];
      let importing = true;
      const prober = (async () => {
        for (let i = 0; !stop.signal.aborted && importing; i++) {
          const token = `zqprobe${round}x${i}`;
          probes.push(
            (async () => {
              const appended = performance.now();
              const response = await send(`http://127.0.0.1:${api!.port}/trpc/messages.append`, {
                method: 'POST',
                headers: { 'content-type': 'application/json', 'x-session-id': anonymousId },
                body: JSON.stringify({ sessionId: probeSession, role: 'user', content: `probe ${token}` }),
              });
              if (response.status !== 200) throw new Error(`probe append failed: ${response.status}`);
              const input = encodeURIComponent(JSON.stringify({ query: token, sessionId: probeSession }));
              while (!stop.signal.aborted) {
                const found = (await (
                  await send(`http://127.0.0.1:${api!.port}/trpc/messages.search?input=${input}`, {
                    headers: { 'x-session-id': anonymousId },
                  })
                ).json()) as { result?: { data: { items: unknown[] } } };
                if ((found.result?.data.items.length ?? 0) > 0) {
                  probeLags.push((performance.now() - appended) / 1000);
                  return;
                }
                await new Promise((resolve) => setTimeout(resolve, 100));
              }
            })(),
          );
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      })();
      let oldest = 0;
      let oldestOther = 0;
      const sampler = (async () => {
        while (!stop.signal.aborted) {
          const { rows } = await client.query<{ bulk: boolean; oldest: number }>(
            `select q.bulk, extract(epoch from clock_timestamp() - min(m.created_at))::float8 as oldest
               from chat_message_search_queue q join chat_messages m on m.id = q.message_id group by q.bulk`,
          );
          for (const row of rows) {
            if (row.bulk) oldest = Math.max(oldest, row.oldest);
            else oldestOther = Math.max(oldestOther, row.oldest);
          }
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      })();
      const seconds = await importThroughApi(api, anonymousId, data.bodies);
      importing = false;
      const importEnded = performance.now();
      await prober;
      await Promise.all(probes);
      // Until the queue is empty (every imported message searchable), at most 5 minutes.
      for (;;) {
        const { rows } = await client.query<{ n: string }>('select count(*) as n from chat_message_search_queue');
        if (Number(rows[0]!.n) === 0 || performance.now() - importEnded > 300_000) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const drainAfter = (performance.now() - importEnded) / 1000;
      // Import and indexing (and the probes and sampler, a small share) per imported message.
      const cpuPerMessage = ((pgCpu() - cpu0) / MESSAGES) * 1e6;
      stop.abort();
      await Promise.all([indexer, sampler]);
      lagRounds.push({
        importRate: MESSAGES / seconds,
        probeLags,
        oldest,
        oldestOther,
        drainAfter,
        pgCpuPerMessage: cpuPerMessage,
        load: loadBefore,
      });
      log(
        `lag round ${round + 1}: import ${formatNumber(MESSAGES / seconds)} msg/s with the indexer running; probes (${probeLags.length}) median ${formatNumber(median(probeLags))} s, max ${formatNumber(Math.max(...probeLags))} s; oldest queued imported ${formatNumber(oldest)} s, other ${formatNumber(oldestOther)} s; queue empty ${formatNumber(drainAfter)} s after the import; PostgreSQL ${formatNumber(cpuPerMessage)} µs/msg imported+indexed (load ${loadBefore.toFixed(2)})`,
      );
    }

    const out: string[] = [];
    if (PHASES.has('throughput'))
      out.push(
        `## Bulk import: ${formatNumber(MESSAGES)} messages a round into ${SESSIONS} sessions, ${formatNumber(PER_REQUEST)} per request, ${CLIENTS} requests in flight; ${ROUNDS} rounds`,
        '',
        table(
          ['figure', 'median [range]', 'load (1 min) per round'],
          [
            [
              'messages.import through the API, msg/s',
              spread(apiRates.map((s) => s.value)),
              apiRates.map((s) => s.load.toFixed(2)).join(', '),
            ],
            [
              'bare pg COPY into chat_messages, msg/s',
              spread(bareRates.map((s) => s.value)),
              bareRates.map((s) => s.load.toFixed(2)).join(', '),
            ],
            ['API ÷ bare COPY', spread(ratios.map((s) => s.value)), ratios.map((s) => s.load.toFixed(2)).join(', ')],
            ['API process CPU per message, µs', spread(apiCpuPerMessage), ''],
            ['PostgreSQL CPU per message (API import), µs', spread(pgCpuPerMessage), ''],
            ['PostgreSQL CPU per message (bare COPY), µs', spread(barePgCpuPerMessage), ''],
          ],
        ),
        '',
        `Goal 4 (≥ ${formatNumber(GOAL_MSG_PER_SECOND)} msg/s through the API): median ${formatNumber(median(apiRates.map((s) => s.value)))} msg/s → ${median(apiRates.map((s) => s.value)) >= GOAL_MSG_PER_SECOND ? 'PASS' : 'MISS'}`,
        '',
      );
    if (PHASES.has('lag'))
      out.push(
        `## Search lag during the import of ${formatNumber(MESSAGES)} messages (indexer: ${INDEX_LOOPS} loop(s), batches of ${formatNumber(INDEX_BATCH)}, every 1 s); ${ROUNDS} rounds`,
        '',
        table(
          ['figure', 'median [range] of rounds', 'load (1 min) per round'],
          [
            [
              'import msg/s with the indexer running',
              spread(lagRounds.map((r) => r.importRate)),
              lagRounds.map((r) => r.load.toFixed(2)).join(', '),
            ],
            [
              'probe append → found by messages.search, median of round, s',
              spread(lagRounds.map((r) => median(r.probeLags))),
              '',
            ],
            ['probe lag, worst of round, s', spread(lagRounds.map((r) => Math.max(...r.probeLags))), ''],
            ['oldest queued imported message, worst of round, s', spread(lagRounds.map((r) => r.oldest)), ''],
            [
              'oldest queued other message (appends), worst of round, s',
              spread(lagRounds.map((r) => r.oldestOther)),
              '',
            ],
            ['queue empty after the import ended, s', spread(lagRounds.map((r) => r.drainAfter)), ''],
            [
              'PostgreSQL CPU per imported message, import + indexing, µs',
              spread(lagRounds.map((r) => r.pgCpuPerMessage)),
              '',
            ],
          ],
        ),
        '',
        `Goal 5 (searchable within ${GOAL_LAG_SECONDS} s under the import): worst probe ${formatNumber(Math.max(...lagRounds.flatMap((r) => r.probeLags)))} s, worst queued imported message ${formatNumber(Math.max(...lagRounds.map((r) => r.oldest)))} s`,
      );
    log('');
    for (const line of out) log(line);
  } finally {
    await api?.stop();
    await orm.close();
    await client.end();
    await database.stop();
  }
}

await main();
