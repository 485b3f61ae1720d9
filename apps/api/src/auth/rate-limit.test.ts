import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import { startApi, type RunningApi } from '../../test/http-api.ts';

describe('per-principal rate limits over HTTP', () => {
  const testDb = useTestDatabase();
  let api: RunningApi;
  // One token a minute: nothing refills while the test runs, however slow the machine.
  beforeAll(async () => {
    api = await startApi(testDb.orm, { RATE_LIMIT_PER_MINUTE: 1, RATE_LIMIT_BURST: 2 });
  });
  afterAll(() => api?.close());

  const whoamiAs = (anonymousId: string) =>
    fetch(`${api.url}/trpc/auth.whoami`, { headers: { 'x-session-id': anonymousId } });

  it('answers a caller over its budget with 429, a Retry-After header and TOO_MANY_REQUESTS', async () => {
    const anonymousId = crypto.randomUUID();
    expect((await whoamiAs(anonymousId)).status).toBe(200);
    expect((await whoamiAs(anonymousId)).status).toBe(200);

    const refused = await whoamiAs(anonymousId);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const body = (await refused.json()) as { error: { data: { code: string; details: unknown } } };
    expect(body.error.data).toMatchObject({ code: 'TOO_MANY_REQUESTS', details: { retryAfterSeconds: retryAfter } });
  });

  it("does not spend one principal's budget on another's exhaustion", async () => {
    const exhausted = crypto.randomUUID();
    for (let i = 0; i < 3; i += 1) await whoamiAs(exhausted);
    expect((await whoamiAs(exhausted)).status).toBe(429);

    const other = api.client({ 'x-session-id': crypto.randomUUID() });
    await expect(other.auth.whoami.query()).resolves.toMatchObject({ kind: 'anonymous' });
    await expect(other.auth.whoami.query()).resolves.toMatchObject({ kind: 'anonymous' });
  });
});
