import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MikroORM } from '@threadstore/db';
import { createTestDatabase, type TestDatabase } from '@threadstore/db/testing';
import { createLogger } from '@threadstore/runtime';
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import { createHTTPServer } from '@trpc/server/adapters/standalone';
import * as z from 'zod';
import { createContextInner, type RequestConfig } from './context.ts';
import { publicProcedure, router } from './init.ts';

// The real API has no procedure with input yet; this one exercises the shared error formatter.
const testRouter = router({
  search: publicProcedure
    .input(z.object({ query: z.string().min(1), limit: z.number().int().min(1).max(100) }))
    .output(z.object({ hits: z.number() }))
    .query(({ input }) =>
      input.query === 'wrong-shape' ? ({ hits: 'many' } as unknown as { hits: number }) : { hits: 0 },
    ),
});
type TestRouter = typeof testRouter;

interface ErrorBody {
  error: { message: string; data: { code: string; httpStatus: number; stack?: string; zodError?: unknown } };
}

describe('the error formatter', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  const servers: Server[] = [];

  async function serve(nodeEnv: RequestConfig['NODE_ENV'], exposeStacks?: boolean): Promise<string> {
    const logger = createLogger('test', 'silent');
    const config: RequestConfig = {
      NODE_ENV: nodeEnv,
      READINESS_TIMEOUT_MS: 1_000,
      ...(exposeStacks === undefined ? {} : { API_EXPOSE_STACK_TRACES: exposeStacks }),
    };
    const server = createHTTPServer({
      router: testRouter,
      createContext: () => createContextInner({ orm, logger, config, requestId: 'formatter-test' }),
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  beforeAll(async () => {
    db = await createTestDatabase(inject('testPostgres'));
    orm = await db.createOrm();
  });
  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await orm?.close();
    await db?.drop();
  });

  it('answers invalid input with 400 and field errors a form can show', async () => {
    const url = await serve('production');
    const input = encodeURIComponent(JSON.stringify({ query: '', limit: 0 }));
    const response = await fetch(`${url}/search?input=${input}`);
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as ErrorBody;
    expect(error.data).toMatchObject({
      code: 'BAD_REQUEST',
      zodError: { formErrors: [], fieldErrors: { query: [expect.any(String)], limit: [expect.any(String)] } },
    });
  });

  it('hands the field errors to a typed client', async () => {
    const client = createTRPCClient<TestRouter>({ links: [httpLink({ url: await serve('production') })] });
    const failure = await client.search.query({ query: 'x', limit: 1_000 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TRPCClientError);
    expect((failure as TRPCClientError<TestRouter>).data?.zodError?.fieldErrors).toEqual({
      limit: [expect.stringMatching(/100/)],
    });
  });

  it('keeps stacks on the server whatever NODE_ENV says, unless API_EXPOSE_STACK_TRACES asks', async () => {
    const input = encodeURIComponent(JSON.stringify({ query: '', limit: 1 }));
    const bodyFrom = async (url: string) =>
      ((await (await fetch(`${url}/search?input=${input}`)).json()) as ErrorBody).error.data;
    for (const nodeEnv of ['production', 'development', 'test'] as const) {
      expect(await bodyFrom(await serve(nodeEnv)), nodeEnv).not.toHaveProperty('stack');
      expect(await bodyFrom(await serve(nodeEnv, false)), nodeEnv).not.toHaveProperty('stack');
      expect((await bodyFrom(await serve(nodeEnv, true))).stack, nodeEnv).toMatch(/TRPCError/);
    }
  });

  it('never shows a stack for a request refused before it has a context', async () => {
    const response = await fetch(`${await serve('test', true)}/search`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(response.status).toBe(415);
    const { error } = (await response.json()) as ErrorBody;
    expect(error.data.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(error.data).not.toHaveProperty('stack');
  });

  it('reports a response that fails its own schema as a 500 without describing the data', async () => {
    const input = encodeURIComponent(JSON.stringify({ query: 'wrong-shape', limit: 1 }));
    const response = await fetch(`${await serve('production')}/search?input=${input}`);
    expect(response.status).toBe(500);
    const { error } = (await response.json()) as ErrorBody;
    expect(error.data).toMatchObject({ code: 'INTERNAL_SERVER_ERROR', zodError: null });
  });
});
