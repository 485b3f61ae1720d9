import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const API = join(import.meta.dirname, '..');

// The apps talk only through the database and the queue: the API knows jobs by their definitions
// in @threadstore/jobs and never loads the worker's code.
describe('the API and the worker', () => {
  it('share no code: the API depends on no worker package and imports none', async () => {
    const manifest = JSON.parse(await readFile(join(API, 'package.json'), 'utf8')) as Record<string, unknown>;
    const dependencies = Object.keys({
      ...(manifest.dependencies as object),
      ...(manifest.devDependencies as object),
    });
    expect(dependencies.filter((name) => name.startsWith('@threadstore/worker'))).toEqual([]);
    const files = (await readdir(join(API, 'src'), { recursive: true })).filter((file) => file.endsWith('.ts'));
    const offenders: string[] = [];
    for (const file of files) {
      if (/['"]@threadstore\/worker/.test(await readFile(join(API, 'src', file), 'utf8'))) offenders.push(file);
    }
    expect(offenders).toEqual(['no-worker-imports.test.ts']);
  });
});
