import { describe, expect, it } from 'vitest';
import { useApiServer } from '../test/api-server.ts';
import { recordingFetch } from '../test/recording-fetch.ts';
import {
  createThreadstoreClient,
  importMessages,
  isThreadstoreClientError,
  type ThreadstoreClientError,
} from './index.ts';

const MAX_BODY_BYTES = 64 * 1024;
const SERVER_CONFIG = {
  AUTH_LOCAL_ACCOUNTS: true,
  AUTH_JWT_SECRET: 'client-tests-secret-of-at-least-32-chars',
  LIMIT_MAX_BODY_BYTES: MAX_BODY_BYTES,
};

/** The error a call rejected with, failing the test if it succeeded or threw something else. */
async function failureOf(call: Promise<unknown>): Promise<ThreadstoreClientError> {
  const error = await call.then(
    () => expect.fail('the call succeeded'),
    (cause: unknown) => cause,
  );
  if (!isThreadstoreClientError(error)) throw error;
  return error;
}

describe('createThreadstoreClient against the API over HTTP', () => {
  const api = useApiServer(SERVER_CONFIG);

  async function signUp(username: string): Promise<{ userId: string; token: string }> {
    const { user, token } = await createThreadstoreClient({ url: api.url }).auth.signUp.mutate({
      username,
      password: 'correct horse battery staple',
    });
    return { userId: user.id, token };
  }

  it('calls as the anonymous visitor whose id it sends', async () => {
    const anonymousId = crypto.randomUUID();
    const client = createThreadstoreClient({ url: api.url, auth: { anonymousId } });
    await expect(client.auth.whoami.query()).resolves.toEqual({ kind: 'anonymous', anonymousId });
  });

  it('sends calls made in the same tick as one HTTP request, each with its own answer', async () => {
    const recorder = recordingFetch();
    const client = createThreadstoreClient({ url: api.url, fetch: recorder.fetch });

    const [health, whoami] = await Promise.allSettled([client.health.check.query(), client.auth.whoami.query()]);

    expect(recorder.requests.map(({ method, url }) => `${method} ${new URL(url).pathname}`)).toEqual([
      'GET /trpc/health.check,auth.whoami',
    ]);
    expect(health).toMatchObject({ status: 'fulfilled', value: { status: 'ok' } });
    expect(whoami.status).toBe('rejected');
  });

  it('rejects a refused call with a TRPCClientError carrying the code and status', async () => {
    const client = createThreadstoreClient({ url: api.url });
    const error = await failureOf(client.auth.whoami.query());
    expect(error.message).toBe('sign in, or send an API key or an X-Session-ID');
    expect(error.data).toMatchObject({ code: 'UNAUTHORIZED', httpStatus: 401, path: 'auth.whoami' });
  });

  it('rejects invalid input with zod’s field errors', async () => {
    const client = createThreadstoreClient({ url: api.url });
    const error = await failureOf(client.auth.signUp.mutate({ username: 'ana', password: 'short' }));
    expect(error.data?.code).toBe('BAD_REQUEST');
    expect(error.data?.zodError?.fieldErrors).toEqual({ password: [expect.stringMatching(/8/)] });
  });

  it('rejects a body over the server’s limit with PAYLOAD_TOO_LARGE', async () => {
    const client = createThreadstoreClient({ url: api.url, auth: { anonymousId: crypto.randomUUID() } });
    const error = await failureOf(client.sessions.create.mutate({ problemStatement: 'x'.repeat(MAX_BODY_BYTES) }));
    expect(error.data).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 });
  });

  it('asks a token function before every request, so a refreshed token is used at once', async () => {
    const ana = await signUp('ana');
    const bob = await signUp('bob');
    let current = ana.token;
    let asked = 0;
    const client = createThreadstoreClient({
      url: api.url,
      auth: {
        token: async () => {
          asked += 1;
          return current;
        },
      },
    });

    await expect(client.auth.whoami.query()).resolves.toMatchObject({ kind: 'user', userId: ana.userId });
    current = bob.token;
    await expect(client.auth.whoami.query()).resolves.toMatchObject({ kind: 'user', userId: bob.userId });
    expect(asked).toBe(2);
  });

  it('calls as an API key, within its scopes', async () => {
    const carol = await signUp('carol');
    const asCarol = createThreadstoreClient({ url: api.url, auth: { token: carol.token } });
    const { key, apiKey } = await asCarol.apiKeys.create.mutate({ name: 'reader', scopes: ['read'] });

    const agent = createThreadstoreClient({ url: api.url, auth: { apiKey: key } });
    await expect(agent.auth.whoami.query()).resolves.toMatchObject({
      kind: 'apiKey',
      apiKeyId: apiKey.id,
      userId: carol.userId,
      scopes: ['read'],
    });
    const refused = await failureOf(agent.auth.claimAnonymous.mutate({ anonymousId: crypto.randomUUID() }));
    expect(refused.data).toMatchObject({ code: 'FORBIDDEN', details: { scope: 'write' } });
  });

  it('adds the extra headers to every request, but never lets them replace the credentials', async () => {
    const recorder = recordingFetch();
    const anonymousId = crypto.randomUUID();
    const client = createThreadstoreClient({
      url: api.url,
      auth: { anonymousId },
      fetch: recorder.fetch,
      headers: () => ({ 'x-request-id': 'trace-7', 'x-session-id': crypto.randomUUID() }),
    });

    await expect(client.auth.whoami.query()).resolves.toEqual({ kind: 'anonymous', anonymousId });
    expect(recorder.requests[0]?.headers.get('x-request-id')).toBe('trace-7');
  });

  it('splits a batch whose URL would grow too long into several requests, each call keeping its answer', async () => {
    const recorder = recordingFetch();
    const client = createThreadstoreClient({
      url: api.url,
      auth: { anonymousId: crypto.randomUUID() },
      fetch: recorder.fetch,
    });
    const ids = Array.from({ length: 100 }, () => crypto.randomUUID());

    const outcomes = await Promise.allSettled(ids.map((id) => client.sessions.get.query({ id })));

    expect(recorder.requests.length).toBeGreaterThan(1);
    for (const { url } of recorder.requests) expect(url.length).toBeLessThanOrEqual(4_000);
    expect(outcomes.map((outcome) => outcome.status === 'rejected' && outcome.reason.data?.code)).toEqual(
      ids.map(() => 'NOT_FOUND'),
    );
  });

  it('imports NDJSON larger than one request as several, each all or nothing, and a re-run stores nothing twice', async () => {
    const anonymousId = crypto.randomUUID();
    const client = createThreadstoreClient({ url: api.url, auth: { anonymousId } });
    const sessions = [await client.sessions.create.mutate({}), await client.sessions.create.mutate({})];
    async function* lines() {
      for (let i = 0; i < 3_000; i++) {
        yield {
          sessionId: sessions[i % 2]!.id,
          role: 'user' as const,
          content: `imported ${i}`,
          clientMessageId: `c-${i}`,
        };
      }
    }
    // Bigger than the server's LIMIT_MAX_BODY_BYTES, which messages.import does not use.
    const first = await importMessages(client, lines(), { requestBytes: 100_000 });
    expect(first.requests.length).toBeGreaterThan(1);
    expect(first).toMatchObject({ imported: 3_000, unchanged: 0 });
    const history = await client.messages.history.query({ sessionId: sessions[1]!.id, limit: 2 });
    expect(history.items.map((m) => [m.seq, m.content])).toEqual([
      [1_499, 'imported 2997'],
      [1_500, 'imported 2999'],
    ]);
    const again = await importMessages(client, lines(), { requestBytes: 1_000_000 });
    expect(again).toMatchObject({ imported: 0, unchanged: 3_000 });
    // A bad line fails its request, naming the line, with the typed error.
    const refused = await failureOf(
      importMessages(client, [{ sessionId: crypto.randomUUID(), role: 'user', content: 'x', clientMessageId: 'x' }]),
    );
    expect(refused.data?.code).toBe('NOT_FOUND');
    expect(refused.message).toBe('session not found (line 1)');
  });

  it('lets a message whose answer was lost be sent again without storing it twice', async () => {
    const anonymousId = crypto.randomUUID();
    const client = createThreadstoreClient({ url: api.url, auth: { anonymousId } });
    const session = await client.sessions.create.mutate({ title: 'flaky network' });
    let loseNextAnswer = true;
    const flaky = createThreadstoreClient({
      url: api.url,
      auth: { anonymousId },
      // The request reaches the server and is served; only its answer never arrives.
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        if (!loseNextAnswer) return response;
        loseNextAnswer = false;
        await response.arrayBuffer();
        throw new TypeError('fetch failed');
      },
    });
    const question = { sessionId: session.id, role: 'user' as const, content: 'hello?', clientMessageId: 'q-1' };

    const lost = await failureOf(flaky.messages.append.mutate(question));
    // What the README's retry rule tells a lost answer by.
    expect(lost.data).toBeUndefined();
    const retried = await flaky.messages.append.mutate(question);

    expect(retried).toMatchObject({ seq: 1, content: 'hello?', clientMessageId: 'q-1' });
    await expect(client.messages.history.query({ sessionId: session.id })).resolves.toMatchObject({
      items: [{ id: retried.id }],
    });
  });
});
