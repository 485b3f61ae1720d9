import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { quickStartAuth, quickStartSecretFile } from './quick-start-auth.ts';

describe('quick start sign-in', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quick-start-auth-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('turns local accounts on with a generated secret, kept (0600) and reused on the next start', async () => {
    const pgDir = join(dir, 'postgres');
    const first = await quickStartAuth(pgDir, {});
    expect(first?.AUTH_LOCAL_ACCOUNTS).toBe('true');
    expect(first?.AUTH_JWT_SECRET.length).toBeGreaterThanOrEqual(32);
    const file = quickStartSecretFile(pgDir);
    expect(file).toBe(join(dir, 'auth-jwt-secret'));
    expect((await readFile(file, 'utf8')).trim()).toBe(first?.AUTH_JWT_SECRET);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await quickStartAuth(pgDir, {})).toEqual(first);
  });

  it.each(['AUTH_JWT_SECRET', 'AUTH_JWKS_URL', 'AUTH_JWT_ISSUER', 'AUTH_LOCAL_ACCOUNTS'])(
    'adds nothing when %s is set: the operator chose',
    async (name) => {
      expect(await quickStartAuth(join(dir, 'postgres'), { [name]: 'x'.repeat(40) })).toBeNull();
    },
  );
});
