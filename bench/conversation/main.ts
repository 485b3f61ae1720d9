/**
 * Conversation features, against bare baselines measured in the same run.
 *
 *   fork:  sessions.fork of a 100,000-message session (forkSession, through the ORM's pool),
 *          beside the floor: one bare INSERT … SELECT through `pg` copying the same rows into a
 *          new session (no parent mapping, provenance, search queue or audit row). Goal ≤ 2 s.
 *   share: shares.view of a 200-message session (the whole session in one page) by 16 clients
 *          at a fixed arrival rate (open loop), through the API process, beside a bare
 *          node:http + pg server running the same two statements. Goal p95 ≤ 20 ms.
 *
 * Median and range of BENCH_ROUNDS (3) rounds; the 1-minute load average beside each figure
 * (this machine is shared: read the figures against it). DATABASE_URL selects a server (the
 * benchmark creates its own database there), else an embedded PostgreSQL under bench/.data.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { connectionSettingsFromUrl, createOrm } from '@threadstore/db';
import { forkSession, shareTokenHash, type Actor } from '@threadstore/domain';
import { DEFAULT_CONTENT_LIMITS } from '@threadstore/contract';
import pg from 'pg';
import { openBenchDatabase } from '../api/database.ts';
import { percentile, runLoad } from '../api/load.ts';
import { startApi, startBaseline, type ServerProcess } from '../api/processes.ts';
import { median, spread, table } from '../api/report.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const FORK_MESSAGES = Number(process.env.BENCH_FORK_MESSAGES ?? 100_000);
const SHARE_MESSAGES = 200;
const CLIENTS = 16;
const RATE = Number(process.env.BENCH_VIEW_RATE ?? 100);
const MEASURE_MS = Number(process.env.BENCH_VIEW_MS ?? 10_000);
const POOL_MAX = 10;

const lines: string[] = [];
const log = (line: string) => {
  console.log(line);
  lines.push(line);
};
const load = () => loadavg()[0]!.toFixed(2);

/** One round's figure with the load average when it was taken. */
interface Sample {
  value: number;
  load: string;
}
const summary = (samples: Sample[]) =>
  `${spread(samples.map((s) => s.value))} (load ${samples.map((s) => s.load).join(', ')})`;

async function main() {
  const database = await openBenchDatabase(process.env.DATABASE_URL, log, {
    database: 'threadstore_bench_conversation',
  });
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  const orm = await createOrm({ connection: { ...connectionSettingsFromUrl(database.url), poolMax: POOL_MAX } });
  let api: ServerProcess | undefined;
  let baseline: ServerProcess | undefined;
  try {
    const { rows } = await client.query<{ id: string }>(
      `insert into users (issuer, subject) values ('bench', $1) returning id`,
      [randomUUID()],
    );
    const userId = rows[0]!.id;
    const actor: Actor = { principal: { kind: 'user', userId, role: 'user' }, requestId: 'bench' };
    // The long session: user and assistant turns, each answering the one before.
    const source = randomUUID();
    await client.query(`insert into chat_sessions (id, user_id, last_seq, message_count) values ($1, $2, $3, $3)`, [
      source,
      userId,
      FORK_MESSAGES,
    ]);
    const idOf = (seq: string) =>
      `overlay(overlay(md5($1::text || ${seq}) placing '4' from 13) placing '8' from 17)::uuid`;
    await client.query(
      `insert into chat_messages (id, session_id, seq, role, content, model, parent_id)
       select ${idOf('g')}, $1::uuid, g, case when g % 2 = 1 then 'user' else 'assistant' end,
              repeat('A conversation of some length. ', 8) || g, case when g % 2 = 0 then 'model-a' end,
              case when g > 1 then ${idOf('(g - 1)')} end
         from generate_series(1, $2::int) g`,
      [source, FORK_MESSAGES],
    );
    // The shared session, and its link.
    const shared = randomUUID();
    await client.query(
      `insert into chat_sessions (id, user_id, title, last_seq, message_count) values ($1, $2, 'shared', $3, $3)`,
      [shared, userId, SHARE_MESSAGES],
    );
    await client.query(
      `insert into chat_messages (session_id, seq, role, content)
       select $1, g, case when g % 2 = 1 then 'user' else 'assistant' end, repeat('Shared words. ', 40) || g
         from generate_series(1, $2::int) g`,
      [shared, SHARE_MESSAGES],
    );
    const token = randomBytes(32).toString('base64url');
    await client.query(`insert into session_shares (session_id, token_hash, mode) values ($1, $2, 'live')`, [
      shared,
      shareTokenHash(token),
    ]);
    await client.query('vacuum analyze');
    log(`# Conversation features benchmark\n`);
    log(`Fork source: ${FORK_MESSAGES} messages; shared session: ${SHARE_MESSAGES} messages. ${ROUNDS} rounds.\n`);

    // Fork: the domain function against the bare INSERT … SELECT, alternating, each committed.
    const forks: Sample[] = [];
    const floors: Sample[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      let started = performance.now();
      const result = await forkSession(
        orm.em.fork(),
        actor,
        { sessionId: source, path: 'history' },
        DEFAULT_CONTENT_LIMITS,
      );
      forks.push({ value: performance.now() - started, load: load() });
      if (result.copied !== FORK_MESSAGES) throw new Error(`fork copied ${result.copied} of ${FORK_MESSAGES}`);
      const copy = randomUUID();
      started = performance.now();
      await client.query('begin');
      await client.query(`insert into chat_sessions (id, user_id) values ($1, $2)`, [copy, userId]);
      await client.query(
        `insert into chat_messages (session_id, seq, role, content, model)
         select $1, seq, role, content, model from chat_messages where session_id = $2 and deleted_at is null order by seq`,
        [copy, source],
      );
      await client.query('commit');
      floors.push({ value: performance.now() - started, load: load() });
      log(
        `round ${round + 1}: fork ${forks.at(-1)!.value.toFixed(0)} ms, floor ${floors.at(-1)!.value.toFixed(0)} ms (load ${load()})`,
      );
    }

    // shares.view at a fixed rate, API and baseline alternating per round.
    // Every load client shares 127.0.0.1: the per-address budget is off (as in the API's tests).
    api = await startApi(database.url, POOL_MAX, undefined, { RATE_LIMIT_ADDRESS_PER_MINUTE: '0' });
    baseline = await startBaseline(database.url, POOL_MAX, join(import.meta.dirname, 'baseline-server.ts'));
    const viewPath = `/trpc/shares.view?input=${encodeURIComponent(JSON.stringify({ token, limit: SHARE_MESSAGES }))}`;
    const views: Record<'api' | 'baseline', { p50: Sample[]; p95: Sample[]; p99: Sample[]; errors: number }> = {
      api: { p50: [], p95: [], p99: [], errors: 0 },
      baseline: { p50: [], p95: [], p99: [], errors: 0 },
    };
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const [name, server, path] of [
        ['api', api, viewPath],
        ['baseline', baseline, `/view?token=${token}`],
      ] as const) {
        const result = await runLoad({
          port: server.port,
          concurrency: CLIENTS,
          ratePerSecond: RATE,
          next: () => ({ method: 'GET', path, headers: {} }),
          warmup: { requests: 200 },
          measure: { ms: MEASURE_MS },
        });
        const at = load();
        views[name].p50.push({ value: percentile(result.latenciesMs, 0.5), load: at });
        views[name].p95.push({ value: percentile(result.latenciesMs, 0.95), load: at });
        views[name].p99.push({ value: percentile(result.latenciesMs, 0.99), load: at });
        views[name].errors += result.non2xx + result.socketErrors;
        if (result.firstError !== null) log(`${name}: first error ${result.firstError}`);
        log(
          `round ${round + 1}: ${name} shares.view p95 ${percentile(result.latenciesMs, 0.95).toFixed(2)} ms (load ${at})`,
        );
      }
    }

    log('');
    log(
      table(
        ['figure', 'Threadstore', 'bare baseline', 'ratio', 'goal'],
        [
          [
            `fork of ${FORK_MESSAGES} messages, ms`,
            summary(forks),
            `${summary(floors)} (INSERT … SELECT)`,
            (median(forks.map((s) => s.value)) / median(floors.map((s) => s.value))).toFixed(2),
            `≤ 2000 ms: ${median(forks.map((s) => s.value)) <= 2000 ? 'met' : 'not met'}`,
          ],
          ...(['p50', 'p95', 'p99'] as const).map((p) => [
            `shares.view ${SHARE_MESSAGES} msgs, ${CLIENTS} clients, ${RATE}/s open loop, ${p} ms`,
            summary(views.api[p]),
            summary(views.baseline[p]),
            (median(views.api[p].map((s) => s.value)) / median(views.baseline[p].map((s) => s.value))).toFixed(2),
            p === 'p95' ? `≤ 20 ms: ${median(views.api.p95.map((s) => s.value)) <= 20 ? 'met' : 'not met'}` : '',
          ]),
        ],
      ),
    );
    log(`\nnon-2xx or socket errors: API ${views.api.errors}, baseline ${views.baseline.errors}`);
    log(`figures: median (range; 1-minute load average after each round), ${ROUNDS} rounds`);
  } finally {
    await api?.stop();
    await baseline?.stop();
    await orm.close();
    await client.end();
    await database.stop();
  }
}

await main();
