import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * scrypt at N=2^15, r=8, p=1: 32 MiB and tens of milliseconds per guess, so a stolen table of
 * hashes costs an attacker that much per candidate password.
 */
const COST = { N: 2 ** 15, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
// The hash string names its own parameters; anything far beyond ours is a tampered or foreign
// row, refused rather than allowed to burn gigabytes of memory.
const MAX_N = 2 ** 20;

/** Hashes a password into a self-describing `scrypt$N$r$p$salt$hash` string (base64url parts). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, COST, HASH_BYTES);
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/** Whether `password` is the one `stored` was made from; false for any malformed `stored`. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash, ...rest] = stored.split('$');
  if (scheme !== 'scrypt' || salt === undefined || hash === undefined || rest.length > 0) return false;
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  if (![cost.N, cost.r, cost.p].every(Number.isSafeInteger) || cost.N > MAX_N || cost.r > 32 || cost.p > 16) {
    return false;
  }
  const expected = Buffer.from(hash, 'base64url');
  if (expected.length === 0) return false;
  const actual = await derive(password, Buffer.from(salt, 'base64url'), cost, expected.length);
  return timingSafeEqual(actual, expected);
}

/**
 * A hash of a password nobody knows, with our parameters. Checking a sign-in for an unknown
 * username against it costs what a real check costs, so response times do not reveal which
 * usernames exist.
 */
export const DUMMY_PASSWORD_HASH =
  'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

function derive(password: string, salt: Buffer, cost: ScryptOptions, length: number): Promise<Buffer> {
  // NFC, so the same passphrase typed on two systems that compose accents differently matches.
  const secret = Buffer.from(password.normalize('NFC'), 'utf8');
  // scrypt needs 128·N·r bytes; node's default ceiling (32 MiB) is exactly N=2^15, r=8 with no headroom.
  const maxmem = 256 * (cost.N ?? 0) * (cost.r ?? 0);
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, length, { ...cost, maxmem }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}
