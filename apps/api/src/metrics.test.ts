import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import { startApi, type RunningApi } from '../test/http-api.ts';
import { createApiMetrics, trackSubscription } from './metrics.ts';

/** One sample's value from the Prometheus text format, or undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
  const testDb = useTestDatabase();
  let api: RunningApi;
  beforeAll(async () => {
    api = await startApi(testDb.orm, { RATE_LIMIT_PER_MINUTE: 1, RATE_LIMIT_BURST: 3, RATE_LIMIT_ADDRESS_BURST: 100 });
  });
  afterAll(() => api?.close());

  const scrape = async () => {
    const response = await fetch(`${api.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return response.text();
  };

  it('counts calls per procedure and outcome, times them, and counts rate-limit refusals', async () => {
    const visitor = { 'x-session-id': crypto.randomUUID() };
    await fetch(`${api.url}/trpc/health.check`);
    const missing = crypto.randomUUID();
    await fetch(`${api.url}/trpc/sessions.get?input=${encodeURIComponent(JSON.stringify({ id: missing }))}`, {
      headers: visitor,
    });
    // The visitor's budget (3) runs out: sessions.get and two whoami spend it, the third is refused.
    for (let i = 0; i < 3; i++) await fetch(`${api.url}/trpc/auth.whoami`, { headers: visitor });

    const text = await scrape();
    expect(sample(text, 'threadstore_api_calls_total{procedure="health.check",type="query",code="OK"}')).toBe(1);
    expect(sample(text, 'threadstore_api_calls_total{procedure="sessions.get",type="query",code="NOT_FOUND"}')).toBe(1);
    expect(sample(text, 'threadstore_api_calls_total{procedure="auth.whoami",type="query",code="OK"}')).toBe(2);
    expect(
      sample(text, 'threadstore_api_calls_total{procedure="auth.whoami",type="query",code="TOO_MANY_REQUESTS"}'),
    ).toBe(1);
    expect(sample(text, 'threadstore_api_rate_limited_total{budget="principal"}')).toBe(1);
    expect(
      sample(text, 'threadstore_api_call_duration_seconds_count{procedure="health.check",type="query",code="OK"}'),
    ).toBe(1);
    expect(
      sample(
        text,
        'threadstore_api_call_duration_seconds_bucket{le="+Inf",procedure="health.check",type="query",code="OK"}',
      ),
    ).toBe(1);
    // The scrape itself is the one request in flight.
    expect(sample(text, 'threadstore_api_requests_in_flight')).toBe(1);
    expect(sample(text, 'threadstore_db_pool_max_connections')).toBe(10);
    expect(sample(text, 'threadstore_db_pool_connections')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'threadstore_db_pool_waiting_requests')).toBe(0);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });
});

describe('GET /metrics with METRICS_BEARER_TOKEN', () => {
  const testDb = useTestDatabase();
  let api: RunningApi;
  const token = 'scrape-token-0123456789';
  beforeAll(async () => {
    api = await startApi(testDb.orm, { METRICS_BEARER_TOKEN: token });
  });
  afterAll(() => api?.close());

  it('answers 401 without the token and the metrics with it', async () => {
    expect((await fetch(`${api.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${api.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const response = await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('threadstore_api_requests_in_flight');
  });
});

describe('open subscriptions', () => {
  it('are counted from start to end, once however often the end is reported', async () => {
    const metrics = createApiMetrics({ processMetrics: false });
    const end = trackSubscription(metrics, 'sessions.onMessage');
    trackSubscription(metrics, 'sessions.onMessage');
    const text = await metrics.registry.metrics();
    expect(sample(text, 'threadstore_api_open_subscriptions{procedure="sessions.onMessage"}')).toBe(2);
    end();
    end();
    expect(
      sample(await metrics.registry.metrics(), 'threadstore_api_open_subscriptions{procedure="sessions.onMessage"}'),
    ).toBe(1);
  });
});

describe('the Grafana dashboard (ops/grafana/dashboards/threadstore.json)', () => {
  const testDb = useTestDatabase();

  it('charts only metrics the API exports, for every API and process metric it names', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const dashboard = readFileSync(
      join(import.meta.dirname, '..', '..', '..', 'ops', 'grafana', 'dashboards', 'threadstore.json'),
      'utf8',
    );
    const named = new Set(dashboard.match(/\b(?:threadstore|process|nodejs)_[a-z0-9_]+/g));
    const metrics = createApiMetrics({ orm: testDb.orm });
    const exported = new Set<string>();
    for (const { name, type } of await metrics.registry.getMetricsAsJSON()) {
      exported.add(name);
      if (String(type) === 'histogram') for (const suffix of ['_bucket', '_count', '_sum']) exported.add(name + suffix);
    }
    const apiNamed = [...named].filter((name) => !/^threadstore_(job|queue|dead_letter)_/.test(name));
    expect(apiNamed.length).toBeGreaterThan(5);
    expect(apiNamed.filter((name) => !exported.has(name))).toEqual([]);
  });
});
