import { describe, expect, it } from 'vitest';
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from './passwords.ts';

describe('password hashing', () => {
  it('stores a self-describing scrypt string that verifies only the same password', async () => {
    const stored = await hashPassword('correct horse battery staple');
    expect(stored).toMatch(/^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(stored).not.toContain('correct horse');
    expect(await verifyPassword('correct horse battery staple', stored)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', stored)).toBe(false);
  });

  it('salts every hash, so equal passwords do not give equal hashes', async () => {
    expect(await hashPassword('same password')).not.toBe(await hashPassword('same password'));
  });

  it('matches a passphrase whatever Unicode composition the keyboard produced', async () => {
    const composed = 'caf\u00e9 au lait';
    const decomposed = 'cafe\u0301 au lait';
    expect(await verifyPassword(decomposed, await hashPassword(composed))).toBe(true);
  });

  it('refuses malformed or extravagant stored strings instead of throwing', async () => {
    for (const stored of ['', 'plaintext', 'bcrypt$x', 'scrypt$32768$8$1$salt', 'scrypt$1073741824$8$1$AAAA$AAAA']) {
      expect(await verifyPassword('whatever', stored)).toBe(false);
    }
  });

  it('has a dummy hash with the real parameters and sizes, so checking against it costs the same', async () => {
    const real = (await hashPassword('x')).split('$');
    const dummy = DUMMY_PASSWORD_HASH.split('$');
    expect(dummy.slice(0, 4)).toEqual(real.slice(0, 4));
    expect(dummy.slice(4).map((part) => Buffer.from(part, 'base64url').length)).toEqual(
      real.slice(4).map((part) => Buffer.from(part, 'base64url').length),
    );
    expect(await verifyPassword('', DUMMY_PASSWORD_HASH)).toBe(false);
  });
});
