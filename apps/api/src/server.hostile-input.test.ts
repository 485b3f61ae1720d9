import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import { captureLogs, type JsonLine } from '@threadstore/runtime/testing';
import { createApiServer, type ApiServer } from './server.ts';
import { sendRaw as send, type RawResponse } from './testing/raw-request.ts';
import { testServerConfig } from './testing/server-config.ts';

// Room for the 100,000-level nestings below, which must reach the JSON parser.
const MAX_BODY_BYTES = 1024 * 1024;
const ANONYMOUS = { 'x-session-id': '0b5a2f5e-8a53-4d8e-9d0e-1c2f3a4b5c6d' };

interface ErrorBody {
  error: { message: string; data: Record<string, unknown> };
}

const json = (body: string) => ({ headers: { 'content-type': 'application/json', ...ANONYMOUS }, chunks: [body] });

/** A nesting `depth` levels deep: `[[[…]]]`. */
const nestedArrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
/** An object nesting `depth` levels deep: `{"a":{"a":…{}}}`. */
const nestedObjects = (depth: number) => '{"a":'.repeat(depth) + '{}' + '}'.repeat(depth);

describe('the API server refusing hostile input, in production mode', () => {
  const testDb = useTestDatabase();
  let api: ApiServer;
  let baseUrl: string;
  let logLines: JsonLine[];

  beforeAll(async () => {
    const { logger, logs } = captureLogs('api', 'info');
    logLines = logs.lines;
    api = createApiServer({
      orm: testDb.orm,
      logger,
      config: testServerConfig({
        NODE_ENV: 'production',
        LIMIT_MAX_BODY_BYTES: MAX_BODY_BYTES,
        AUTH_LOCAL_ACCOUNTS: true,
        AUTH_JWT_SECRET: 'hostile-input-tests-secret-32-chars-or-more',
        // The batch test below sends 300 calls in one request to show each meets the (per-visitor)
        // rate limit; the batch cap and the address budget are out of its way, so later tests of
        // this file still get through from the same address.
        LIMIT_MAX_BATCH_CALLS: 500,
        RATE_LIMIT_ADDRESS_PER_MINUTE: 100_000,
        RATE_LIMIT_ADDRESS_BURST: 100_000,
      }),
    });
    const { port } = await api.listen();
    baseUrl = `http://127.0.0.1:${port}`;
  });
  afterAll(() => api?.close());

  /** A typed tRPC error: the status, its code, JSON, and nothing about the server's insides. */
  function expectRefusal(response: RawResponse, httpStatus: number, code: string): void {
    expect({ status: response.status, contentType: response.headers['content-type'] }).toEqual({
      status: httpStatus,
      contentType: expect.stringMatching(/^application\/json/),
    });
    const parsed = JSON.parse(response.text) as ErrorBody | ErrorBody[];
    // A batch answers with one entry per call; these batches hold one.
    const body = Array.isArray(parsed) ? parsed[0]! : parsed;
    expect(body.error.data).toMatchObject({ code, httpStatus });
    expect(body.error.data).not.toHaveProperty('stack');
    expect(response.text).not.toMatch(/node_modules|\.[cm]?[jt]s:\d+|\s{2,}at /);
  }

  async function expectStillServing(): Promise<void> {
    const response = await send(`${baseUrl}/trpc/health.check`, { method: 'GET' });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.text)).toMatchObject({ result: { data: { status: 'ok' } } });
  }

  afterAll(() => {
    // Every refusal above is the input's fault: none may have been logged as a server failure.
    expect(logLines.filter((line) => line.level === 'error' || line.level === 'fatal')).toEqual([]);
  });

  describe('a body over LIMIT_MAX_BODY_BYTES', () => {
    it('is refused with 413 from its declared length alone, before a byte of it is sent', async () => {
      const response = await send(`${baseUrl}/trpc/sessions.create`, {
        headers: { 'content-type': 'application/json', 'content-length': String(MAX_BODY_BYTES + 1), ...ANONYMOUS },
      });
      // The request declared a body and sent none of it: only a server that does not wait for it answers.
      expectRefusal(response, 413, 'PAYLOAD_TOO_LARGE');
      expect(response.headers.connection).toBe('close');
      expect(JSON.parse(response.text).error.message).toBe(`request body exceeds ${MAX_BODY_BYTES} bytes`);
      await expectStillServing();
    });

    it('is cut off with 413 when it arrives chunked, without a length', async () => {
      const chunk = `"${'x'.repeat(16 * 1024)}",`;
      const chunks = ['{"title":"flood","metadata":{"list":[', ...Array<string>(80).fill(chunk), '""]}}'];
      const response = await send(`${baseUrl}/trpc/sessions.create`, {
        headers: { 'content-type': 'application/json', ...ANONYMOUS },
        chunks,
      });
      expectRefusal(response, 413, 'PAYLOAD_TOO_LARGE');
      await expectStillServing();
    });
  });

  it('answers a body that is not JSON with a 400', async () => {
    expectRefusal(await send(`${baseUrl}/trpc/sessions.create`, json('{"title": "half')), 400, 'BAD_REQUEST');
  });

  it('answers JSON of the wrong shape with a 400: a batch that is not an object, an input that is not one', async () => {
    expectRefusal(await send(`${baseUrl}/trpc/sessions.create?batch=1`, json('[1, 2]')), 400, 'BAD_REQUEST');
    const notAnObject = await send(`${baseUrl}/trpc/sessions.create`, json('"a title"'));
    expectRefusal(notAnObject, 400, 'BAD_REQUEST');
    expect(JSON.parse(notAnObject.text).error.data.zodError).toMatchObject({ formErrors: [expect.any(String)] });
  });

  it('answers an unknown procedure with a 404', async () => {
    expectRefusal(await send(`${baseUrl}/trpc/sessions.nothingHere`, json('{}')), 404, 'NOT_FOUND');
  });

  it('answers a GET on a mutation with a 405', async () => {
    const input = encodeURIComponent('{"title":"by GET"}');
    const response = await send(`${baseUrl}/trpc/sessions.create?input=${input}`, {
      method: 'GET',
      headers: ANONYMOUS,
    });
    expectRefusal(response, 405, 'METHOD_NOT_SUPPORTED');
  });

  describe('a huge batch', () => {
    it('is answered 431 when its procedure list overflows the request line', async () => {
      const paths = Array<string>(2_000).fill('health.check').join(',');
      const response = await send(`${baseUrl}/trpc/${paths}?batch=1`, { method: 'GET' });
      expect(response.status).toBe(431);
      await expectStillServing();
    });

    it('runs each call through the rate limit, so a long batch cannot multiply one request’s work', async () => {
      const caller = { 'x-session-id': crypto.randomUUID() };
      const paths = Array<string>(300).fill('auth.whoami').join(',');
      const response = await send(`${baseUrl}/trpc/${paths}?batch=1`, { method: 'GET', headers: caller });
      const outcomes = (JSON.parse(response.text) as Array<{ result?: unknown; error?: ErrorBody['error'] }>).map(
        (entry) => (entry.error === undefined ? 'answered' : entry.error.data.code),
      );
      expect(response.status).toBe(207);
      expect(outcomes).toHaveLength(300);
      expect(new Set(outcomes)).toEqual(new Set(['answered', 'TOO_MANY_REQUESTS']));
    });
  });

  describe('a NUL character', () => {
    it('is refused with a 400 in a label that must match exactly', async () => {
      const response = await send(`${baseUrl}/trpc/sessions.create`, json('{"clientKey":"a\\u0000b"}'));
      expectRefusal(response, 400, 'BAD_REQUEST');
    });

    it('is stored as U+FFFD in free text, instead of failing the insert', async () => {
      const response = await send(`${baseUrl}/trpc/sessions.create`, json('{"title":"a\\u0000b"}'));
      expect(response.status).toBe(200);
      expect(JSON.parse(response.text).result.data.title).toBe('a\uFFFDb');
    });

    // PostgreSQL cannot carry a NUL inside SQL text and answered a protocol violation, once a 500.
    it('is refused with a 400 where it would reach the database unrepaired (a sign-in username)', async () => {
      const response = await send(
        `${baseUrl}/trpc/auth.signIn`,
        json('{"username":"ana\\u0000","password":"12345678"}'),
      );
      expectRefusal(response, 400, 'BAD_REQUEST');
      await expectStillServing();
    });
  });

  it('stores a lone surrogate escape in free text as U+FFFD', async () => {
    const response = await send(`${baseUrl}/trpc/sessions.create`, json('{"title":"a\\ud800b"}'));
    expect(response.status).toBe(200);
    expect(JSON.parse(response.text).result.data.title).toBe('a\uFFFDb');
  });

  it('answers JSON nested 100,000 levels deep with a 400, as the input or inside a JSON field', async () => {
    const depth = 100_000;
    expectRefusal(await send(`${baseUrl}/trpc/sessions.create`, json(nestedArrays(depth))), 400, 'BAD_REQUEST');
    const deepMetadata = await send(
      `${baseUrl}/trpc/sessions.create`,
      json(`{"title":"deep","metadata":${nestedObjects(depth)}}`),
    );
    expectRefusal(deepMetadata, 400, 'BAD_REQUEST');
    expect(JSON.parse(deepMetadata.text).error.data.details).toMatchObject({
      limit: 'maxJsonDepth',
      field: 'metadata',
    });
    await expectStillServing();
  });
});
