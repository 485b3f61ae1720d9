import { randomUUID } from 'node:crypto';

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits.
 *
 * Why not `crypto.randomUUID()` (v4): our biggest tables (messages, sessions) are appended to
 * all day, and random v4 keys scatter every insert across the whole primary-key B-tree, so the
 * index's working set is the whole index. Time-ordered keys keep inserts on the right-hand
 * edge. PostgreSQL 18 has `uuidv7()`, but we support 15 onward, so we generate them here.
 */
export function uuidv7(now: number = Date.now()): string {
  // The random part comes from a v4 UUID (its variant bits are already v7's): randomUUID draws
  // from a cached entropy pool, several times cheaper than randomBytes(16) on every call, which
  // showed in bulk inserts (one id per message).
  const random = randomUUID();
  const time = now.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15)}`;
}
