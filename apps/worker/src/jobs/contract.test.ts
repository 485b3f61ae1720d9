import { describe, expect, it } from 'vitest';
import { defineJob, jobDefinitions } from '@threadstore/jobs';
import * as z from 'zod';
import { handle, withHandlers } from './contract.ts';
import { jobs } from './registry.ts';

const done = async () => ({ rowsAffected: 0, details: {} });
const first = defineJob({ name: 'first', description: 'one', payload: z.object({}) });
const second = defineJob({ name: 'second', description: 'two', payload: z.object({}) });

describe('the worker registry', () => {
  it('registers a handler for every job definition, in the definitions order', () => {
    expect(jobs.map((job) => job.name)).toEqual(jobDefinitions.map((job) => job.name));
    for (const job of jobs) expect(typeof job.handler).toBe('function');
  });

  it('pairs handlers with definitions by name', () => {
    const paired = withHandlers([first, second], [handle(second, done), handle(first, done)]);
    expect(paired.map((job) => job.name)).toEqual(['first', 'second']);
  });

  it('refuses a definition without a handler, a handler without a definition, and two handlers for one job', () => {
    expect(() => withHandlers([first, second], [handle(first, done)])).toThrow('job "second" has no handler');
    expect(() => withHandlers([first], [handle(first, done), handle(second, done)])).toThrow(
      'handlers without a job definition: second',
    );
    expect(() => withHandlers([first], [handle(first, done), handle(first, done)])).toThrow(
      'two handlers are registered for job "first"',
    );
  });
});
