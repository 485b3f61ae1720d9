import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';

/** One measured run of one workload against one server. */
export interface RunStats {
  throughput: number;
  /** Messages per second (throughput × messages per request). */
  messagesPerSecond: number;
  p50: number;
  p99: number;
  p999: number;
  mean: number;
  requests: number;
  errors: number;
  /** CPU per request, in ms: the server process, PostgreSQL (all backends), the load generator. */
  serverCpuMs: number;
  postgresCpuMs: number;
  generatorCpuMs: number;
  /** Share of the machine's CPU used by processes outside this benchmark during the run, in %. */
  otherCpuPercent: number;
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

const round = (value: number, digits: number) => value.toFixed(digits);

/** Enough digits to compare, no more: 1,234 · 12.3 · 1.23 · 0.123. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return Math.round(value).toLocaleString('en-US');
  if (magnitude >= 100) return round(value, 0);
  if (magnitude >= 10) return round(value, 1);
  if (magnitude >= 1) return round(value, 2);
  return round(value, 3);
}

/** `median [min–max]` of the rounds. */
export function spread(values: number[]): string {
  if (values.length === 0) return 'n/a';
  const med = formatNumber(median(values));
  return values.length === 1
    ? med
    : `${med} [${formatNumber(Math.min(...values))}–${formatNumber(Math.max(...values))}]`;
}

export interface Goal {
  name: string;
  /** The figure, already reduced to one number (a median, a ratio of medians). */
  measured: number;
  target: number;
  /** `atLeast`: measured ≥ target passes; `atMost`: measured ≤ target passes. */
  kind: 'atLeast' | 'atMost';
  unit: string;
}

export function goalRow(goal: Goal): string[] {
  const pass = goal.kind === 'atLeast' ? goal.measured >= goal.target : goal.measured <= goal.target;
  const margin = Math.abs(goal.measured - goal.target);
  const relative = goal.target === 0 ? '' : ` (${formatNumber((margin / goal.target) * 100)}%)`;
  const verdict = Number.isFinite(goal.measured)
    ? `${pass ? 'PASS' : 'MISS'} by ${formatNumber(margin)}${goal.unit}${relative}`
    : 'MISS (not measured)';
  return [
    goal.name,
    `${goal.kind === 'atLeast' ? '≥' : '≤'} ${formatNumber(goal.target)}${goal.unit}`,
    `${formatNumber(goal.measured)}${goal.unit}`,
    verdict,
  ];
}

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function describeMachine(): Record<string, string> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? 'unknown';
  return {
    CPU: `${model}, ${availableParallelism()} cores`,
    RAM: `${formatNumber(totalmem() / 2 ** 30)} GiB`,
    Kernel: `Linux ${release()}`,
    Node: process.version,
    Code: codeVersion(),
    'Load average at start (1/5/15 min)': loadavg()
      .map((value) => value.toFixed(2))
      .join(' / '),
  };
}

/** The commit measured, and whether the working tree differed from it. */
function codeVersion(): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: import.meta.dirname, encoding: 'utf8' }).trim();
  try {
    return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain') === '' ? '' : ' with uncommitted changes'}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}
