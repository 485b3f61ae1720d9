import { describe, expect, it } from 'vitest';
import { apiEnvSchema, rateLimitSettingsFrom } from './env.ts';

const parse = (env: Record<string, string>) =>
  apiEnvSchema.parse({ DATABASE_URL: 'postgresql://threadstore@127.0.0.1/threadstore', ...env });

describe('the API settings', () => {
  it('gives an address the per-principal budget unless RATE_LIMIT_ADDRESS_* say otherwise', () => {
    // A burst of 1 per address used to be the silent default: two parallel calls of one
    // anonymous page got a 429.
    expect(rateLimitSettingsFrom(parse({ RATE_LIMIT_PER_MINUTE: '600', RATE_LIMIT_BURST: '50' }))).toEqual({
      perMinute: 600,
      burst: 50,
      perAddress: { perMinute: 600, burst: 50 },
    });
    expect(
      rateLimitSettingsFrom(parse({ RATE_LIMIT_ADDRESS_PER_MINUTE: '60', RATE_LIMIT_ADDRESS_BURST: '3' })).perAddress,
    ).toEqual({ perMinute: 60, burst: 3 });
  });

  it('reads API_WORKERS as a number of processes, `auto` as one per core', () => {
    expect(parse({}).API_WORKERS).toBe(1);
    expect(parse({ API_WORKERS: '3' }).API_WORKERS).toBe(3);
    expect(parse({ API_WORKERS: 'auto' }).API_WORKERS).toBeGreaterThanOrEqual(1);
    expect(apiEnvSchema.safeParse({ DATABASE_URL: 'postgresql://x@y/z', API_WORKERS: '0' }).success).toBe(false);
    expect(apiEnvSchema.safeParse({ DATABASE_URL: 'postgresql://x@y/z', API_WORKERS: 'many' }).success).toBe(false);
  });
});
