import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import { startApi, type RunningApi } from '../../test/http-api.ts';
import { appRouter } from '../routers/_app.ts';

type JsonSchema = Record<string, unknown>;
interface Operation {
  parameters?: { name: string; in: string; required: boolean; schema: JsonSchema }[];
  requestBody?: { content: { 'application/json': { schema: JsonSchema } } };
  responses: Record<string, { content: { 'application/json': { schema: JsonSchema } } }>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, JsonSchema> };
}

// ajv-formats is CommonJS with a default export; under NodeNext its callable sits on `.default`.
const formatsPlugin = addFormatsModule as unknown as { default?: (ajv: Ajv2020) => void } & ((ajv: Ajv2020) => void);
const addFormats = formatsPlugin.default ?? formatsPlugin;

describe('the REST surface and its OpenAPI document', () => {
  const testDb = useTestDatabase();
  let api: RunningApi;
  let doc: Document;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);

  beforeAll(async () => {
    api = await startApi(testDb.orm);
    const response = await fetch(`${api.url}/openapi.json`);
    expect(response.status).toBe(200);
    doc = (await response.json()) as Document;
  });
  afterAll(() => api?.close());

  /** Checks `value` against a schema of the published document; fails with ajv's reasons. */
  function conforms(schema: JsonSchema, value: unknown, what: string): void {
    const resolved = schema.$ref === '#/components/schemas/Error' ? doc.components.schemas.Error! : schema;
    const validate = ajv.compile(resolved);
    expect(validate(value) ? [] : validate.errors, what).toEqual([]);
  }

  /** Calls an operation with plain fetch, checking the request and the answer against the document. */
  async function call(
    method: 'get' | 'post',
    path: string,
    input: Record<string, unknown> | undefined,
    headers: Record<string, string>,
    { invalid = false }: { invalid?: boolean } = {},
  ): Promise<{ status: number; body: unknown; headers: Headers }> {
    const operation = doc.paths[path]?.[method];
    expect(operation, `${method.toUpperCase()} ${path} is documented`).toBeDefined();
    let url = `${api.url}${path}`;
    const init: RequestInit = { method: method.toUpperCase(), headers };
    if (method === 'get' && input !== undefined) {
      const query = new URLSearchParams();
      for (const [name, value] of Object.entries(input)) {
        const parameter = operation!.parameters?.find((p) => p.name === name);
        expect(parameter, `${name} is a documented parameter of ${path}`).toBeDefined();
        query.set(name, typeof value === 'string' ? value : JSON.stringify(value));
      }
      url += `?${query}`;
    } else if (input !== undefined) {
      const schema = operation!.requestBody!.content['application/json'].schema;
      if (invalid) expect(ajv.validate(schema, input), `the document refuses this body of ${path}`).toBe(false);
      else conforms(schema, input, `request body of ${path}`);
      init.body = JSON.stringify(input);
      init.headers = { ...headers, 'content-type': 'application/json' };
    }
    const response = await fetch(url, init);
    const body = (await response.json()) as unknown;
    const documented = operation!.responses[response.status === 200 ? '200' : 'default']!;
    conforms(documented.content['application/json'].schema, body, `${response.status} answer of ${path}`);
    return { status: response.status, body, headers: response.headers };
  }

  it('documents every query and mutation of the router, at /api/<router>/<procedure>, GET or POST', () => {
    const procedures = Object.entries(
      appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>,
    );
    const expected = procedures
      .filter(([, procedure]) => procedure._def.type !== 'subscription')
      .map(
        ([path, procedure]) => `${procedure._def.type === 'query' ? 'get' : 'post'} /api/${path.replaceAll('.', '/')}`,
      );
    const documented = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method} ${path}`),
    );
    expect(expected.length).toBeGreaterThan(30);
    expect(documented.sort()).toEqual(expected.sort());
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['anonymousId', 'apiKey', 'bearer']);
  });

  it('runs a conversation over plain HTTP, each request and answer matching the document', async () => {
    const visitor = { 'x-session-id': crypto.randomUUID() };
    const created = await call('post', '/api/sessions/create', { title: 'over REST' }, visitor);
    expect(created.status).toBe(200);
    const session = created.body as { id: string; title: string };
    expect(session.title).toBe('over REST');

    const appended = await call(
      'post',
      '/api/messages/append',
      { sessionId: session.id, role: 'user', content: 'hello from curl', clientMessageId: 'm-1' },
      visitor,
    );
    expect(appended).toMatchObject({ status: 200, body: { seq: 1, content: 'hello from curl' } });

    const history = await call('get', '/api/messages/history', { sessionId: session.id, limit: 10 }, visitor);
    expect(history.status).toBe(200);
    expect((history.body as { items: { content: string }[] }).items.map((m) => m.content)).toEqual(['hello from curl']);
    const list = await call('get', '/api/sessions/list', undefined, visitor);
    expect((list.body as { items: { id: string }[] }).items.map((s) => s.id)).toEqual([session.id]);
  });

  it('answers with the same typed errors as tRPC: tenancy, bad input, no credentials, wrong method', async () => {
    const owner = { 'x-session-id': crypto.randomUUID() };
    const session = (await call('post', '/api/sessions/create', {}, owner)).body as { id: string };

    const foreign = await call('get', '/api/sessions/get', { id: session.id }, { 'x-session-id': crypto.randomUUID() });
    expect(foreign).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND', httpStatus: 404 } } });

    const invalid = await call('post', '/api/sessions/create', { title: 42 }, owner, { invalid: true });
    expect(invalid).toMatchObject({
      status: 400,
      body: { error: { code: 'BAD_REQUEST', zodError: { fieldErrors: { title: [expect.any(String)] } } } },
    });
    const unknownField = await call('post', '/api/sessions/create', { sneaky: true }, owner, { invalid: true });
    expect(unknownField.status).toBe(400);

    const anonymousOff = await call('post', '/api/sessions/create', {}, {});
    expect(anonymousOff).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });

    const brokenJson = await fetch(`${api.url}/api/sessions/create`, {
      method: 'POST',
      headers: { ...owner, 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(brokenJson.status).toBe(400);
    expect(await brokenJson.json()).toMatchObject({ error: { code: 'PARSE_ERROR' } });

    const wrongMethod = await fetch(`${api.url}/api/sessions/create`, { headers: owner });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    const missing = await fetch(`${api.url}/api/sessions/nope`, { headers: owner });
    expect(missing.status).toBe(404);
  });

  it('refuses a body over LIMIT_MAX_BODY_BYTES with 413 and stores nothing', async () => {
    const limited = await startApi(testDb.orm, { LIMIT_MAX_BODY_BYTES: 1024 });
    try {
      const visitor = crypto.randomUUID();
      const response = await fetch(`${limited.url}/api/sessions/create`, {
        method: 'POST',
        headers: { 'x-session-id': visitor, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'x'.repeat(2000) }),
      });
      expect(response.status).toBe(413);
      const list = await fetch(`${limited.url}/api/sessions/list`, { headers: { 'x-session-id': visitor } });
      expect(((await list.json()) as { items: unknown[] }).items).toEqual([]);
    } finally {
      await limited.close();
    }
  });
});
