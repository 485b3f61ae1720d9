/**
 * What serving /metrics costs the API: the same closed-loop read workload with and without a
 * Prometheus-like scrape of /metrics every 5 s, alternating in each round on one API process.
 *   pnpm bench:metrics            (embedded PostgreSQL under bench/.data)
 *   BENCH_DATABASE_URL=postgresql://…/postgres pnpm bench:metrics
 */
import { writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { openBenchDatabase } from '../api/database.ts';
import { runLoad, send } from '../api/load.ts';
import { startApi } from '../api/processes.ts';
import { median } from '../api/report.ts';

const ROUNDS = 3;
const PHASE_MS = 15_000;
const CONCURRENCY = 16;
const SCRAPE_EVERY_MS = 5_000;

const lines: string[] = [];
const log = (line: string) => {
  lines.push(line);
  console.log(line);
};
const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

const database = await openBenchDatabase(process.env.BENCH_DATABASE_URL, log, {
  database: 'threadstore_bench_metrics',
  dataDirName: 'postgres-metrics',
});
const api = await startApi(database.url, 10);
try {
  const agent = new Agent({ keepAlive: true });
  const headers = { 'x-session-id': crypto.randomUUID(), 'content-type': 'application/json' };
  const created = await send(agent, api.port, {
    method: 'POST',
    path: '/trpc/sessions.create',
    headers,
    body: JSON.stringify({ title: 'metrics bench' }),
  });
  const sessionId = (JSON.parse(created.body) as { result: { data: { id: string } } }).result.data.id;
  for (let i = 0; i < 20; i++) {
    await send(agent, api.port, {
      method: 'POST',
      path: '/trpc/messages.append',
      headers,
      body: JSON.stringify({ sessionId, role: i % 2 ? 'assistant' : 'user', content: `message ${i} `.repeat(20) }),
    });
  }
  const history = {
    method: 'GET' as const,
    path: `/trpc/messages.history?input=${encodeURIComponent(JSON.stringify({ sessionId, limit: 20 }))}`,
    headers,
  };

  async function phase(scrape: boolean): Promise<{ throughput: number; scrapes: number; load: string }> {
    let scrapes = 0;
    const timer = scrape
      ? setInterval(() => {
          void send(agent, api.port, { method: 'GET', path: '/metrics', headers: {} }).then((r) => {
            if (r.status === 200) scrapes++;
          });
        }, SCRAPE_EVERY_MS)
      : undefined;
    try {
      const result = await runLoad({
        port: api.port,
        concurrency: CONCURRENCY,
        next: () => history,
        warmup: { ms: 2_000 },
        measure: { ms: PHASE_MS },
      });
      if (result.non2xx > 0) throw new Error(`failures: ${result.firstError}`);
      return { throughput: result.throughput, scrapes, load: load() };
    } finally {
      clearInterval(timer);
    }
  }

  log(
    `# /metrics cost: messages.history (20 messages), closed loop, ${CONCURRENCY} clients, ${PHASE_MS / 1000} s per phase`,
  );
  log('');
  log(
    '| round | without scrape (req/s) | load avg | with scrape every 5 s (req/s) | scrapes | load avg | ratio with/without |',
  );
  log('| --- | --- | --- | --- | --- | --- | --- |');
  const ratios: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    // Alternate which goes first, so a drift in the machine's load does not favour one side.
    const first = round % 2 === 1 ? false : true;
    const a = await phase(first);
    const b = await phase(!first);
    const [without, withScrape] = first ? [b, a] : [a, b];
    const ratio = withScrape.throughput / without.throughput;
    ratios.push(ratio);
    log(
      `| ${round} | ${without.throughput.toFixed(0)} | ${without.load} | ${withScrape.throughput.toFixed(0)} | ${withScrape.scrapes} | ${withScrape.load} | ${ratio.toFixed(3)} |`,
    );
  }
  log('');
  log(
    `ratio with/without: median ${median(ratios).toFixed(3)}, range ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)} (${ROUNDS} rounds; 1.000 = no cost)`,
  );
  const scrapeMs: number[] = [];
  for (let i = 0; i < 20; i++) {
    const started = performance.now();
    await send(agent, api.port, { method: 'GET', path: '/metrics', headers: {} });
    scrapeMs.push(performance.now() - started);
  }
  log(`one scrape of /metrics on the idle API: median ${median(scrapeMs).toFixed(2)} ms over 20 (load avg ${load()})`);
  agent.destroy();
} finally {
  await api.stop();
  await database.stop();
}
writeFileSync(join(import.meta.dirname, '..', 'results', 'metrics-2026-12-07.md'), `${lines.join('\n')}\n`);
