import { randomUUID } from 'node:crypto';
import { uuidv7 } from '@threadstore/db';
import pg from 'pg';
import { randomContent } from './dataset.ts';
import { mean, percentile } from './load.ts';
import { machineCpuSeconds, treeCpuSeconds } from './processes.ts';
import type { RunStats } from './report.ts';

/**
 * The floor under any append (issue 8): how simpler chat-history stores write. One plain
 * single-row INSERT of the same message into a table with the same columns and no index, key,
 * constraint or trigger, from a Node `pg` client (autocommit, so one commit per message as in
 * our append), at the append workload's concurrency. No HTTP, no gapless seq, no idempotency, no
 * counters, no audit: what our append adds is measured as append ÷ this.
 */
const CREATE = `
  drop table if exists bench_plain_messages;
  create table bench_plain_messages (id uuid, session_id uuid, seq bigint, role text, content text,
    metadata jsonb, client_message_id varchar(255), created_at timestamptz default now())`;
const INSERT = `insert into bench_plain_messages (id, session_id, seq, role, content, metadata, client_message_id)
  values ($1, $2, $3, $4, $5, $6, $7)`;

export async function measureFloor(
  url: string,
  postmasterPid: number | null,
  {
    concurrency,
    warmupMs,
    measureMs,
    corpus,
  }: { concurrency: number; warmupMs: number; measureMs: number; corpus: string },
): Promise<RunStats> {
  const pool = new pg.Pool({ connectionString: url, max: concurrency });
  try {
    await pool.query(CREATE);
    const latencies: number[] = [];
    let phase: 'warmup' | 'measure' | 'done' = 'warmup';
    let requests = 0;
    const client = async () => {
      while (phase !== 'done') {
        const started = performance.now();
        await pool.query({
          name: 'plain_insert',
          text: INSERT,
          values: [uuidv7(), randomUUID(), 1, 'user', randomContent(corpus), '{}', randomUUID()],
        });
        if (phase === 'measure') {
          latencies.push(performance.now() - started);
          requests += 1;
        }
      }
    };
    const clients = Array.from({ length: concurrency }, client);
    await new Promise((resolve) => setTimeout(resolve, warmupMs));
    const cpu = () => ({
      postgres: postmasterPid === null ? 0 : treeCpuSeconds(postmasterPid),
      generator: process.cpuUsage(),
      machine: machineCpuSeconds(),
    });
    const start = cpu();
    phase = 'measure';
    const startedAt = performance.now();
    await new Promise((resolve) => setTimeout(resolve, measureMs));
    phase = 'done';
    const elapsed = (performance.now() - startedAt) / 1000;
    const end = cpu();
    const generatorUsage = process.cpuUsage(start.generator);
    await Promise.all(clients);
    const sorted = Float64Array.from(latencies).sort();
    const generator = (generatorUsage.user + generatorUsage.system) / 1e6;
    const postgres = end.postgres - start.postgres;
    const machineBusy = end.machine.busy - start.machine.busy;
    const machineTotal = end.machine.total - start.machine.total;
    return {
      throughput: requests / elapsed,
      messagesPerSecond: requests / elapsed,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      p999: percentile(sorted, 0.999),
      mean: mean(sorted),
      requests,
      errors: 0,
      serverCpuMs: 0,
      postgresCpuMs: postmasterPid === null ? Number.NaN : (postgres * 1000) / requests,
      generatorCpuMs: (generator * 1000) / requests,
      otherCpuPercent: Math.max(0, ((machineBusy - postgres - generator) / machineTotal) * 100),
    };
  } finally {
    await pool.query('drop table if exists bench_plain_messages').catch(() => {});
    await pool.end();
  }
}
