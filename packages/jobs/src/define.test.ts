import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { defineJob, type JobSpec } from './define.ts';

const definition: JobSpec<z.ZodObject> = {
  name: 'retention',
  description: 'Deletes what has outlived its retention policy.',
  payload: z.object({}),
};

describe('defineJob', () => {
  it('gives a job the exclusive queue policy unless it asks for another, keeping its other options', () => {
    expect(defineJob({ ...definition, queue: { retryLimit: 5 } }).queue).toEqual({
      policy: 'exclusive',
      retryLimit: 5,
    });
    expect(defineJob({ ...definition, queue: { policy: 'singleton' } }).queue).toEqual({ policy: 'singleton' });
  });

  it('refuses a name that is not kebab-case', () => {
    for (const name of ['Retention', 'retention.dead', 'retention_sweep', '']) {
      expect(() => defineJob({ ...definition, name })).toThrow(`job name "${name}" must be kebab-case`);
    }
  });

  it('refuses an invalid default schedule, naming the job', () => {
    expect(() => defineJob({ ...definition, schedule: { cron: '0 3 * * mon-fry' } })).toThrow(
      /job "retention": default schedule "0 3 \* \* mon-fry" is not a valid cron expression/,
    );
  });
});
