/**
 * What the session trigger's NOTIFY costs the append path, in isolation (issue 8, goal 3):
 * the append statement itself (appendStatement from @threadstore/domain), from a bare pg Pool,
 * as it ran before (the trigger NOTIFYs inside the append's transaction) and as the API runs it
 * now (`quiet`: the trigger stays silent; the caller announces after the commit), in alternating
 * rounds in the same run, on the capacity benchmark's seeded database.
 *
 *   pnpm bench:capacity-notify      options: --rounds N, --seconds S, --clients N
 *
 * Closed loop (each client sends its next append when the previous one answered): it measures
 * how many appends PostgreSQL commits per second with and without the cluster-wide notify lock
 * held through each commit's WAL flush, and the latency that comes with it.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_CONTENT_LIMITS } from '@threadstore/contract';
import { appendStatement, prepareMessage, type Actor } from '@threadstore/domain';
import pg from 'pg';
import { openBenchDatabase } from '../api/database.ts';
import { makeCorpus, ownerId, randomContent, sessionId } from '../api/dataset.ts';
import { percentile } from '../api/load.ts';
import { formatNumber, spread, table } from '../api/report.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
    clients: { type: 'string', default: '16' },
  },
});
const log = (line: string) => process.stderr.write(`${line}\n`);

const db = await openBenchDatabase(process.env.DATABASE_URL, log, {
  database: process.env.BENCH_DATABASE ?? 'threadstore_bench_capacity',
  dataDirName: 'postgres-capacity',
  keep: true,
});
const pool = new pg.Pool({ connectionString: db.url, max: Number(args.clients) });
// The ordinary seeded sessions (bench:capacity seeds them; --quick seeds fewer), not the long one after them.
const SESSIONS = Number((await pool.query<{ n: string }>('select count(*) - 1 as n from chat_sessions')).rows[0]!.n);
if (SESSIONS < 1) throw new Error('no seeded sessions: run pnpm bench:capacity (--quick will do) on this server first');
const corpus = makeCorpus();

interface Round {
  mode: string;
  perSecond: number;
  p50: number;
  p99: number;
  load: number;
}

async function round(quiet: boolean): Promise<Round> {
  const latencies: number[] = [];
  const end = performance.now() + Number(args.seconds) * 1000;
  const client = async () => {
    while (performance.now() < end) {
      const session = Math.floor(Math.random() * SESSIONS);
      const actor: Actor = { principal: { kind: 'anonymous', anonymousId: ownerId(session) }, requestId: randomUUID() };
      const message = prepareMessage(
        { role: 'user', content: randomContent(corpus), clientMessageId: randomUUID() },
        DEFAULT_CONTENT_LIMITS,
      );
      const statement = appendStatement(actor, 'messages.append', sessionId(session), [message], { quiet });
      const started = performance.now();
      await pool.query({
        name: quiet ? 'append_quiet' : 'append_loud',
        text: statement.text,
        values: statement.values,
      });
      latencies.push(performance.now() - started);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Number(args.clients) }, client));
  const sorted = Float64Array.from(latencies).sort();
  return {
    mode: quiet ? 'quiet (as the API runs it now)' : 'NOTIFY in the transaction (before)',
    perSecond: (latencies.length * 1000) / (performance.now() - started),
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    load: loadavg()[0]!,
  };
}

try {
  const rounds: Round[] = [];
  await round(true); // warm-up: connections, prepared statements, caches
  for (let i = 0; i < Number(args.rounds); i += 1) {
    for (const quiet of i % 2 === 0 ? [false, true] : [true, false]) {
      const result = await round(quiet);
      rounds.push(result);
      log(
        `round ${i + 1} ${result.mode}: ${formatNumber(result.perSecond)} appends/s, p50 ${formatNumber(result.p50)} ms, p99 ${formatNumber(result.p99)} ms, load ${result.load.toFixed(2)}`,
      );
    }
  }
  const of = (quiet: boolean) => rounds.filter((r) => r.mode.startsWith(quiet ? 'quiet' : 'NOTIFY'));
  const ratios = of(true).map((r, i) => r.perSecond / of(false)[i]!.perSecond);
  process.stdout.write(
    [
      `Append statement on ${(await pool.query<{ server_version: string }>('show server_version')).rows[0]!.server_version}, ${formatNumber(SESSIONS)} sessions, ${args.clients} clients (closed loop), ${args.seconds} s per round, ${args.rounds} rounds alternating, median [range]:`,
      '',
      table(
        ['Mode', 'appends/s', 'p50 ms', 'p99 ms', 'load (1 min)'],
        [false, true].map((quiet) => [
          of(quiet)[0]!.mode,
          spread(of(quiet).map((r) => r.perSecond)),
          spread(of(quiet).map((r) => r.p50)),
          spread(of(quiet).map((r) => r.p99)),
          spread(of(quiet).map((r) => r.load)),
        ]),
      ),
      '',
      `Quiet ÷ NOTIFY, appends/s per round: ${spread(ratios)}`,
      '',
    ].join('\n'),
  );
} finally {
  await pool.end();
  await db.stop();
}
