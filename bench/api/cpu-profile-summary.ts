/**
 * Self time by function of a V8 .cpuprofile (`node --cpu-prof`, e.g. the API under
 * BENCH_CPU_PROFILE_DIR), the top BENCH_TOP (30) with their share of the profile's samples:
 *
 *   node bench/api/cpu-profile-summary.ts <file.cpuprofile> [per-unit count, e.g. messages]
 *
 * With a count, each function's self time is also printed per unit (µs per message). V8 samples
 * by wall clock: on a loaded machine a descheduled thread's time lands on the function it was in,
 * so read the shares, and CPU per message from /proc (the benchmarks print it).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, units] = process.argv.slice(2);
if (file === undefined) throw new Error('usage: cpu-profile-summary.ts <file.cpuprofile> [units]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map<string, number>();
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  // Each sample's delta is the time until it, attributed to the function it caught.
  const micros = profile.timeDeltas[i + 1] ?? 0;
  const frame = byNode.get(profile.samples[i]!)!.callFrame;
  const where =
    frame.url === ''
      ? ''
      : ` ${frame.url.replace(/^.*\/(node_modules|apps|packages)\//, '$1/')}:${frame.lineNumber + 1}`;
  const name = `${frame.functionName || '(anonymous)'}${where}`;
  self.set(name, (self.get(name) ?? 0) + micros);
  total += micros;
}
const idle = (self.get('(idle)') ?? 0) + (self.get('(program)') ?? 0);
console.log(`profile: ${(total / 1e6).toFixed(2)} s, of it idle/program ${(idle / 1e6).toFixed(2)} s`);
const perUnit = units === undefined ? undefined : Number(units);
const busy = [...self].filter(([name]) => name !== '(idle)' && name !== '(program)');
for (const [name, micros] of busy.sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.BENCH_TOP ?? 30))) {
  const share = ((100 * micros) / (total - idle)).toFixed(1).padStart(5);
  const unit = perUnit === undefined ? '' : ` ${(micros / perUnit).toFixed(2).padStart(7)} µs/unit`;
  console.log(`${share}% ${(micros / 1e3).toFixed(0).padStart(7)} ms${unit}  ${name}`);
}
