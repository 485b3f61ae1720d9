import { randomBytes } from 'node:crypto';

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits.
 *
 * Why not `crypto.randomUUID()` (v4): our biggest tables (messages, sessions) are appended to
 * all day, and random v4 keys scatter every insert across the whole primary-key B-tree, so the
 * index's working set is the whole index. Time-ordered keys keep inserts on the right-hand
 * edge. PostgreSQL 18 has `uuidv7()`, but we support 15 onward, so we generate them here.
 */
export function uuidv7(now: number = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
