/**
 * Per-principal request budgets: a token bucket per key, refilled continuously. State lives in
 * this process (each API instance enforces its own budget), which bounds what one caller can do
 * to one instance without a database round trip on every request.
 */
export interface RateLimiter {
  /** Takes one token for `key`; when none is left, says how many seconds until one is. */
  take(key: string): { allowed: true } | { allowed: false; retryAfterSeconds: number };
}

export const unlimited: RateLimiter = { take: () => ({ allowed: true }) };

export function createRateLimiter({
  perMinute,
  burst,
  maxKeys = 100_000,
  now = () => performance.now(),
}: {
  perMinute: number;
  burst: number;
  /** Buckets kept at most; the least recently used go first, so memory stays bounded. */
  maxKeys?: number;
  now?: () => number;
}): RateLimiter {
  if (perMinute === 0) return unlimited;
  const refillPerMs = perMinute / 60_000;
  // A Map iterates in insertion order; re-inserting on use keeps the stalest bucket first.
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(key) {
      const t = now();
      const bucket = buckets.get(key) ?? { tokens: burst, at: t };
      buckets.delete(key);
      bucket.tokens = Math.min(burst, bucket.tokens + (t - bucket.at) * refillPerMs);
      bucket.at = t;
      buckets.set(key, bucket);
      if (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value!);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { allowed: true };
      }
      return { allowed: false, retryAfterSeconds: Math.ceil((1 - bucket.tokens) / refillPerMs / 1000) };
    },
  };
}
