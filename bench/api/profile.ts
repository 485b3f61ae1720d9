/**
 * Where the API process spends its CPU on one workload: the real API (apps/api/dist/main.js)
 * (or the bare baseline) under V8's sampling profiler while a closed loop sends `--workload` (append,
 * history, list…: a key of bench/api/workloads.ts), then
 * the self time summed by function and by package. A tool for finding what to cut, not a
 * benchmark: it prints no ratios and judges nothing.
 *
 *   node bench/api/profile.ts --workload append [--server api|baseline] [--seconds 10] [--top 40]
 *                             [--main ../before/apps/api/dist/main.js]
 *   DATABASE_URL=… uses that server (the quick data set is seeded into threadstore_bench_api)
 */
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openBenchDatabase } from './database.ts';
import { makeCorpus, QUICK_DATASET } from './dataset.ts';
import { runLoad } from './load.ts';
import { startApi, startBaseline, treeCpuSeconds } from './processes.ts';
import { seed } from './seed.ts';
import { QUICK_SETTINGS, workloads } from './workloads.ts';

const { values: args } = parseArgs({
  options: {
    workload: { type: 'string', default: 'append' },
    server: { type: 'string', default: 'api' },
    // Another build of the API (an earlier commit's checkout, built), to compare with this one.
    main: { type: 'string' },
    seconds: { type: 'string', default: '10' },
    top: { type: 'string', default: '40' },
  },
});
const log = (line: string) => process.stderr.write(`${line}\n`);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const db = await openBenchDatabase(process.env.DATABASE_URL, log);
try {
  await seed(db.url, QUICK_DATASET, log);
  const dir = await mkdtemp(join(tmpdir(), 'threadstore-profile-'));
  let cpuBefore = 0;
  const api =
    args.server === 'baseline'
      ? await startBaseline(db.url, 10, undefined, dir)
      : await startApi(db.url, 10, dir, {}, args.main);
  const all = workloads(QUICK_DATASET, makeCorpus(), QUICK_SETTINGS);
  const workload = all[args.workload as keyof typeof all];
  if (workload === undefined) throw new Error(`unknown workload ${args.workload}`);
  const result = await runLoad({
    port: api.port,
    concurrency: workload.concurrency,
    next: workload.next,
    warmup: { ms: 2_000 },
    afterWarmup: async () => {
      cpuBefore = treeCpuSeconds(api.pid);
    },
    measure: { ms: Number(args.seconds) * 1000 },
  });
  // Profiling slows the process a little, so this reads high; compare runs of this tool only.
  const cpuMsPerRequest = ((treeCpuSeconds(api.pid) - cpuBefore) * 1000) / result.requests;
  await api.stop();
  log(
    `${workload.name}: ${result.throughput.toFixed(0)} req/s, ${result.non2xx} non-2xx, ` +
      `server CPU ${cpuMsPerRequest.toFixed(3)} ms per request, profiled (load ${loadavg()[0]!.toFixed(2)})`,
  );
  const [file] = (await readdir(dir)).filter((name) => name.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error('the API wrote no profile');
  report(JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile, Number(args.top));
} finally {
  await db.stop();
}

function report(profile: CpuProfile, top: number): void {
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, index) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const where = url.replace(/^file:\/\//, '').replace(/.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, '');
    const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    byPackage.set(packageOf(url, functionName), (byPackage.get(packageOf(url, functionName)) ?? 0) + us);
  }
  const print = (title: string, entries: Map<string, number>, limit: number) => {
    console.log(`\n${title} (share of busy time ${(total / 1e6).toFixed(2)} s; idle ${(idle / 1e6).toFixed(2)} s)`);
    for (const [key, us] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
      console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`);
    }
  };
  print('self time by package', byPackage, 25);
  print('self time by function', byFunction, top);
  print('total time (self and callees) by function, ours and tRPC only', inclusiveTimes(profile, selfUs), top);
}

/** Each function's self time plus its callees', counted once per sample even when it recurses. */
function inclusiveTimes(profile: CpuProfile, selfUs: Map<number, number>): Map<string, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const totals = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { functionName, url, lineNumber } = byId.get(at)!.callFrame;
      if (!/\/(apps|packages)\/|@trpc|zod|mikro-orm/.test(url)) continue;
      const where = url.replace(/^file:\/\//, '').replace(/.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, '');
      const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      totals.set(key, (totals.get(key) ?? 0) + us);
    }
  }
  return totals;
}

function packageOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const dependency = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dependency !== null) return dependency[1]!;
  if (url.startsWith('node:')) return url;
  const own = /\/(apps|packages)\/([^/]+)\//.exec(url);
  return own === null ? url : `${own[1]}/${own[2]}`;
}
