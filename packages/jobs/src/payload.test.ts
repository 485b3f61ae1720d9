import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { defineJob } from './define.ts';
import { JobPayloadError, parsePayloadText, preparePayload, supportsDryRun } from './payload.ts';
import { jobDefinitions } from './registry.ts';

const sweep = defineJob({
  name: 'sweep',
  description: 'has a dry run',
  payload: z.object({ dryRun: z.boolean().default(false), batchSize: z.number().int().min(1).default(100) }),
});
const report = defineJob({ name: 'report', description: 'has none', payload: z.object({}) });

describe('preparePayload (shared by admin.runJob and `pnpm jobs run`)', () => {
  it('sends the payload as given, with dryRun added when asked for', () => {
    expect(preparePayload(sweep, {})).toEqual({});
    expect(preparePayload(sweep, { payload: { batchSize: 10 }, dryRun: true })).toEqual({
      batchSize: 10,
      dryRun: true,
    });
  });

  it('refuses a payload the job would refuse, naming the job and the field', () => {
    expect(() => preparePayload(sweep, { payload: { batchSize: 0 } })).toThrow(JobPayloadError);
    expect(() => preparePayload(sweep, { payload: { batchSize: 0 } })).toThrow(
      /^invalid payload for job "sweep": [\s\S]*batchSize/,
    );
  });

  it('refuses a dry run of a job that would drop the flag and run for real', () => {
    expect(supportsDryRun(report)).toBe(false);
    expect(() => preparePayload(report, { dryRun: true })).toThrow('job "report" has no dry run');
  });

  it('knows which of the real jobs have a dry run', () => {
    expect(jobDefinitions.filter(supportsDryRun).map((job) => job.name)).toEqual([
      'retention',
      'vacuum-analyze',
      'stuck-run-reaper',
      'xp-rollup',
    ]);
  });
});

describe('parsePayloadText', () => {
  it('reads a JSON object and refuses anything else', () => {
    expect(parsePayloadText(undefined)).toEqual({});
    expect(parsePayloadText('{"batchSize":5}')).toEqual({ batchSize: 5 });
    for (const text of ['[1]', 'null', '5', '{oops']) {
      expect(() => parsePayloadText(text)).toThrow('--payload must be a JSON object');
    }
  });
});
