/**
 * Search lag under bulk import (issue 8, goal 5): how long an appended message waits before
 * messages.search can find it, while batches of 1,000 messages are imported as fast as they go.
 *
 *   DATABASE_URL=… node bench/api/search-lag.ts [--seconds 30] [--importers 4] [--indexers 1]
 *
 * Needs a migrated database with the benchmark's sessions (bench/api/seed.ts, or any sessions
 * owned by users): it appends to the first 100 sessions it finds. Importers call the same
 * domain function as messages.appendMany (no HTTP, which only lowers the import rate and so the
 * indexer's load); the indexers are the worker's loop (drainSearchQueue, every 1 s). Twice a
 * second it samples the queue: its length and the age of its oldest message, which is the
 * longest any message has been stored but not yet searchable.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { connectionSettingsFromUrl, createOrm } from '@threadstore/db';
import { appendMessages, drainSearchQueue, type Principal } from '@threadstore/domain';
import { BENCH_LIMITS, makeCorpus, randomContent } from './dataset.ts';
import { median } from './report.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    importers: { type: 'string', default: '4' },
    indexers: { type: 'string', default: '1' },
  },
});

const orm = await createOrm({
  connection: { ...connectionSettingsFromUrl(process.env.DATABASE_URL!, 'threadstore-bench-search-lag'), poolMax: 10 },
});
try {
  const sessions = await orm.em
    .fork()
    .execute<{ id: string; user_id: string }[]>(
      'select id, user_id from chat_sessions where user_id is not null and deleted_at is null order by id limit 100',
    );
  if (sessions.length === 0) throw new Error('no user sessions to append to: seed the database first');
  const corpus = makeCorpus();
  const stop = new AbortController();
  let imported = 0;
  const importer = async () => {
    while (!stop.signal.aborted) {
      const session = sessions[Math.floor(Math.random() * sessions.length)]!;
      const principal: Principal = { kind: 'user', userId: session.user_id, role: 'user' };
      const messages = Array.from({ length: 1_000 }, (_, i) => ({
        role: i % 2 === 0 ? ('user' as const) : ('assistant' as const),
        content: randomContent(corpus),
      }));
      await appendMessages(
        orm.em.fork(),
        { principal, requestId: null },
        { sessionId: session.id, messages },
        BENCH_LIMITS,
      );
      imported += messages.length;
    }
  };
  const indexer = async () => {
    while (!stop.signal.aborted) {
      await drainSearchQueue(orm.em.fork(), { batchSize: 5_000, signal: stop.signal });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  };
  const samples: { queued: number; oldestSeconds: number }[] = [];
  const sampler = async () => {
    while (!stop.signal.aborted) {
      const [row] = await orm.em.fork().execute<{ queued: string; oldest: number | null }[]>(
        `select (select count(*) from chat_message_search_queue) as queued,
                extract(epoch from clock_timestamp() - (select min(m.created_at) from chat_message_search_queue q
                                                          join chat_messages m on m.id = q.message_id))::float8 as oldest`,
      );
      samples.push({ queued: Number(row!.queued), oldestSeconds: row!.oldest ?? 0 });
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };
  const load = loadavg()[0]!;
  const started = performance.now();
  const running = [
    ...Array.from({ length: Number(args.importers) }, importer),
    ...Array.from({ length: Number(args.indexers) }, indexer),
    sampler(),
  ];
  await new Promise((resolve) => setTimeout(resolve, Number(args.seconds) * 1000));
  stop.abort();
  const elapsed = (performance.now() - started) / 1000;
  await Promise.all(running);
  const ages = samples.map((sample) => sample.oldestSeconds);
  const lines = [
    `search lag under bulk import, ${new Date().toISOString()}`,
    `importers ${args.importers} × batches of 1,000 (domain appendMessages), indexers ${args.indexers} (drainSearchQueue every 1 s)`,
    `imported ${imported} messages in ${elapsed.toFixed(1)} s: ${(imported / elapsed).toFixed(0)} msg/s`,
    `oldest queued message, age in s: median ${median(ages).toFixed(2)}, max ${Math.max(...ages).toFixed(2)} (${samples.length} samples)`,
    `queue length: median ${median(samples.map((sample) => sample.queued))}, max ${Math.max(...samples.map((sample) => sample.queued))}`,
    `load average (1 min) at start ${load.toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await orm.close();
}
