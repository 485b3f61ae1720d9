import { describe, expect, it } from 'vitest';
import { loadConfig } from '@threadstore/runtime';
import { defineJob } from '@threadstore/jobs';
import { configErrorOf } from '@threadstore/runtime/testing';
import * as z from 'zod';
import { workerEnvSchema } from './env.ts';

const jobs = ['retention', 'vacuum'].map((name) =>
  defineJob({ name, description: name, payload: z.object({}), schedule: { cron: '0 3 * * *' } }),
);
const schema = workerEnvSchema(jobs);
const DATABASE_URL = 'postgres://worker@db:5432/threadstore';

describe('workerEnvSchema', () => {
  it('applies the worker defaults', () => {
    expect(loadConfig(schema, { DATABASE_URL })).toMatchObject({
      PGBOSS_SCHEMA: 'pgboss',
      SHUTDOWN_TIMEOUT_MS: 30_000,
      WORKER_POLL_INTERVAL_SECONDS: 2,
      JOB_SCHEDULES: {},
      LOG_LEVEL: 'info',
    });
  });

  it('reads JOB_SCHEDULES: a cron expression replaces a default, "off" turns it off', () => {
    const config = loadConfig(schema, { DATABASE_URL, JOB_SCHEDULES: '{"retention":"30 4 * * 1-5","vacuum":"off"}' });
    expect(config.JOB_SCHEDULES).toEqual({ retention: '30 4 * * 1-5', vacuum: 'off' });
  });

  it('names the job when JOB_SCHEDULES has an unknown name or an invalid cron expression', () => {
    const message = configErrorOf(schema, {
      DATABASE_URL,
      JOB_SCHEDULES: '{"retension":"0 3 * * *","vacuum":"0 25 * * *"}',
    });
    expect(message).toMatch(/JOB_SCHEDULES: no job is named "retension" \(jobs: retention, vacuum\)/);
    expect(message).toMatch(/JOB_SCHEDULES: job "vacuum": "0 25 \* \* \*" is not a valid cron expression: .*0-23/);
  });

  it('refuses expressions with a seconds field or missing fields, and values that are not cron', () => {
    const message = configErrorOf(schema, {
      DATABASE_URL,
      JOB_SCHEDULES: '{"retention":"*/10 * * * * *","vacuum":"* * *"}',
    });
    expect(message).toMatch(/job "retention": "\*\/10 \* \* \* \* \*" is not a five-field cron expression/);
    expect(message).toMatch(/job "vacuum": "\* \* \*" is not a five-field cron expression/);
    expect(configErrorOf(schema, { DATABASE_URL, JOB_SCHEDULES: '{"vacuum":false}' })).toMatch(
      /job "vacuum" needs a cron expression or "off"/,
    );
  });

  it('refuses JOB_SCHEDULES that is not a JSON object', () => {
    for (const value of ['retention=0 3 * * *', '["retention"]', 'null']) {
      expect(configErrorOf(schema, { DATABASE_URL, JOB_SCHEDULES: value })).toMatch(
        /JOB_SCHEDULES: must be a JSON object .* \(got /,
      );
    }
  });

  it('refuses polling faster than pg-boss allows, a bad schema name and a too-short shutdown budget', () => {
    const message = configErrorOf(schema, {
      DATABASE_URL,
      WORKER_POLL_INTERVAL_SECONDS: '0.1',
      PGBOSS_SCHEMA: 'Queue-Schema',
      SHUTDOWN_TIMEOUT_MS: '10',
    });
    expect(message).toMatch(/WORKER_POLL_INTERVAL_SECONDS: .*0\.5.* \(got "0.1"\)/);
    expect(message).toMatch(/PGBOSS_SCHEMA: must be a lower-case PostgreSQL identifier/);
    expect(message).toMatch(/SHUTDOWN_TIMEOUT_MS: .*1000/);
  });
});
