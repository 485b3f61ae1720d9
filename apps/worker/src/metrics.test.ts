import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import { createLogger } from '@threadstore/runtime';
import * as z from 'zod';
import { testWorkerConfig } from '../test/worker-fixture.ts';
import { deadLetterQueueName } from '@threadstore/jobs';
import { defineTestJob } from '../test/define-test-job.ts';
import { createWorkerMetrics, serveWorkerMetrics } from './metrics.ts';
import { startWorker } from './worker.ts';

const logger = createLogger('worker-test', 'silent');

/** One sample's value from the Prometheus text format, or undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const tidy = defineTestJob({
  name: 'tidy',
  description: 'Touches as many rows as it is asked to, or fails when told to.',
  payload: z.object({ rows: z.number().int().default(0), fail: z.boolean().default(false) }),
  queue: { retryLimit: 0, policy: 'standard' },
  handler: async ({ payload }) => {
    if (payload.fail) throw new Error('told to fail');
    return { rowsAffected: payload.rows, details: {} };
  },
});
// Never worked here: its jobs only wait, so the queue gauges have something to show.
const backlog = defineTestJob({
  name: 'backlog',
  description: 'A queue nobody works in this test.',
  payload: z.object({}),
  handler: async () => ({ rowsAffected: 0, details: {} }),
});

describe('the worker’s /metrics', () => {
  const testDb = useTestDatabase();

  it('counts runs, durations, outcomes and rows per job, and shows queue depth, age and dead letters', async () => {
    const config = testWorkerConfig(testDb.db, [tidy]);
    const metrics = createWorkerMetrics({ orm: testDb.orm, pgBossSchema: config.PGBOSS_SCHEMA, processMetrics: false });
    await using worker = await startWorker({ orm: testDb.orm, logger, config, jobs: [tidy], metrics });
    const server = await serveWorkerMetrics(metrics, { host: '127.0.0.1', port: 0, logger });
    try {
      await worker.boss.createQueue(backlog.name);
      await worker.boss.send(backlog.name, {});
      await worker.boss.send(tidy.name, { rows: 7 });
      await worker.boss.send(tidy.name, { fail: true });

      const scrape = async () => (await fetch(`http://127.0.0.1:${server!.port}/metrics`)).text();
      // Runs finish in the background; poll generously (a busy machine may take a while).
      await expect
        .poll(async () => sample(await scrape(), 'threadstore_job_runs_total{job="tidy",outcome="succeeded"}'), {
          timeout: 60_000,
          interval: 250,
        })
        .toBe(1);
      await expect
        .poll(async () => sample(await scrape(), 'threadstore_dead_letter_jobs{job="tidy"}'), {
          timeout: 60_000,
          interval: 250,
        })
        .toBe(1);
      const text = await scrape();
      expect(sample(text, 'threadstore_job_runs_total{job="tidy",outcome="failed"}')).toBe(1);
      expect(sample(text, 'threadstore_job_rows_affected_total{job="tidy"}')).toBe(7);
      expect(sample(text, 'threadstore_job_run_duration_seconds_count{job="tidy",outcome="succeeded"}')).toBe(1);
      expect(sample(text, 'threadstore_queue_jobs{queue="backlog",state="created"}')).toBe(1);
      expect(sample(text, 'threadstore_queue_jobs{queue="tidy",state="created"}')).toBe(0);
      expect(sample(text, `threadstore_queue_jobs{queue="${deadLetterQueueName(tidy.name)}",state="created"}`)).toBe(1);
      expect(sample(text, 'threadstore_queue_oldest_waiting_seconds{queue="backlog"}')).toBeGreaterThanOrEqual(0);
      expect(sample(text, 'threadstore_queue_oldest_waiting_seconds{queue="tidy"}')).toBe(0);
    } finally {
      await server?.close();
    }
  }, 150_000);

  it('goes on without the endpoint when its port is taken', async () => {
    const config = testWorkerConfig(testDb.db, []);
    const metrics = createWorkerMetrics({ orm: testDb.orm, pgBossSchema: config.PGBOSS_SCHEMA, processMetrics: false });
    const first = await serveWorkerMetrics(metrics, { host: '127.0.0.1', port: 0, logger });
    try {
      expect(await serveWorkerMetrics(metrics, { host: '127.0.0.1', port: first!.port, logger })).toBeNull();
    } finally {
      await first?.close();
    }
  });
});

describe('the Grafana dashboard (ops/grafana/dashboards/threadstore.json)', () => {
  const testDb = useTestDatabase();

  it('charts only metrics the worker exports, for every job and queue metric it names', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const dashboard = readFileSync(
      join(import.meta.dirname, '..', '..', '..', 'ops', 'grafana', 'dashboards', 'threadstore.json'),
      'utf8',
    );
    const named = [...new Set(dashboard.match(/\bthreadstore_(?:job|queue|dead_letter)_[a-z0-9_]+/g))];
    const metrics = createWorkerMetrics({ orm: testDb.orm, pgBossSchema: 'pgboss', processMetrics: false });
    const exported = new Set<string>();
    for (const { name, type } of metrics.registry.getMetricsAsArray()) {
      exported.add(name);
      if (String(type) === 'histogram') for (const suffix of ['_bucket', '_count', '_sum']) exported.add(name + suffix);
    }
    expect(named.length).toBeGreaterThan(4);
    expect(named.filter((name) => !exported.has(name))).toEqual([]);
  });
});
