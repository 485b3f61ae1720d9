import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MikroORM } from '@threadstore/db';
import { createTestDatabase, type TestDatabase } from '@threadstore/db/testing';
import { captureLogs } from '@threadstore/runtime/testing';
import { createApiServer, type ApiServer } from '../server.ts';
import { testServerConfig } from '../testing/server-config.ts';
import { parseCorsOrigins } from './cors.ts';

const INDEX = '<!doctype html><title>Threadstore</title><div id="root"></div>';
const SCRIPT = 'console.log("chat");'.repeat(50);
const ALLOWED = 'https://app.example.com';

describe('the web app at / and CORS', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let api: ApiServer;
  let base: string;
  let dist: string;

  beforeAll(async () => {
    dist = await mkdtemp(join(tmpdir(), 'web-dist-'));
    await mkdir(join(dist, 'assets'));
    await writeFile(join(dist, 'index.html'), INDEX);
    await writeFile(join(dist, 'assets', 'index-abc123.js'), SCRIPT);
    await writeFile(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    db = await createTestDatabase(inject('testPostgres'));
    orm = await db.createOrm();
    api = createApiServer({
      orm,
      logger: captureLogs('api').logger,
      config: testServerConfig({
        WEB_DIST_DIR: dist,
        CORS_ORIGINS: parseCorsOrigins(`${ALLOWED}/, http://localhost:5173`),
      }),
    });
    base = `http://127.0.0.1:${(await api.listen()).port}`;
  });
  afterAll(async () => {
    await api?.close();
    await orm?.close();
    await db?.drop();
    await rm(dist, { recursive: true, force: true });
  });

  it('serves index.html at / and for client routes a browser navigates to, revalidated each time', async () => {
    for (const path of ['/', '/chat', '/chat/0190c0de-0000-7000-8000-000000000000', '/runs']) {
      const response = await fetch(`${base}${path}`, { headers: { accept: 'text/html,*/*' } });
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(await response.text()).toBe(INDEX);
    }
  });

  it('serves hashed assets with their content type and a year-long immutable cache, gzipped when accepted', async () => {
    const response = await fetch(`${base}/assets/index-abc123.js`, { headers: { 'accept-encoding': 'identity' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await response.text()).toBe(SCRIPT);

    const raw = await rawGet('/assets/index-abc123.js', { 'accept-encoding': 'gzip' });
    expect(raw.headers['content-encoding']).toBe('gzip');
    expect(raw.body.length).toBeLessThan(SCRIPT.length);
    expect(gunzipSync(raw.body).toString()).toBe(SCRIPT);

    const svg = await fetch(`${base}/favicon.svg`);
    expect(svg.headers.get('content-type')).toBe('image/svg+xml');
    expect(svg.headers.get('cache-control')).toBe('no-cache');
  });

  it('answers a missing file, a non-browser call to an unknown path and a path escaping the build with 404', async () => {
    expect((await fetch(`${base}/assets/gone-123.js`, { headers: { accept: 'text/html' } })).status).toBe(404);
    const unknown = await fetch(`${base}/nope`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'not_found' });
    for (const path of ['/..%2f..%2fetc%2fpasswd', '/assets/..%2f..%2f..%2fpackage.json', '/%00index.html']) {
      expect((await rawGet(path, { accept: 'text/html' })).status, path).toBe(404);
    }
  });

  it('leaves the API paths alone: /trpc, /api, /openapi.json, /healthz, /readyz, /metrics', async () => {
    const html = { accept: 'text/html' };
    expect(await (await fetch(`${base}/trpc/health.check`, { headers: html })).json()).toMatchObject({
      result: { data: { status: 'ok' } },
    });
    expect((await fetch(`${base}/openapi.json`, { headers: html })).headers.get('content-type')).toMatch(/json/);
    expect(await (await fetch(`${base}/healthz`, { headers: html })).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${base}/readyz`, { headers: html })).status).toBe(200);
    expect((await fetch(`${base}/metrics`, { headers: html })).headers.get('content-type')).toMatch(/^text\/plain/);
    const missingRest = await fetch(`${base}/api/v1/no-such-thing`, { headers: html });
    expect(missingRest.headers.get('content-type')).toMatch(/json/);
    const missingProcedure = await fetch(`${base}/trpc/nothing.here`, { headers: html });
    expect(missingProcedure.status).toBe(404);
  });

  it('answers the preflight of a listed origin and lets it read answers', async () => {
    const preflight = await fetch(`${base}/trpc/sessions.list`, {
      method: 'OPTIONS',
      headers: {
        origin: ALLOWED,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, x-session-id',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('x-session-id');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();

    const call = await fetch(`${base}/trpc/health.check`, { headers: { origin: ALLOWED } });
    expect(call.status).toBe(200);
    expect(call.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(call.headers.get('vary')).toMatch(/origin/i);
  });

  it('refuses the preflight of an origin not listed and gives its calls no CORS headers', async () => {
    const preflight = await fetch(`${base}/trpc/sessions.list`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const call = await fetch(`${base}/trpc/health.check`, { headers: { origin: 'https://evil.example' } });
    expect(call.headers.get('access-control-allow-origin')).toBeNull();
  });

  /** A GET without fetch's automatic decompression and URL normalisation. */
  async function rawGet(path: string, headers: Record<string, string>) {
    const { request } = await import('node:http');
    return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      const req = request(`${base}${path}`, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      });
      req.on('error', reject);
      req.end();
    });
  }
});
