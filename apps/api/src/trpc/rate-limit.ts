import type { Logger } from '@threadstore/runtime';
import type { Pool } from 'pg';
import {
  RateLimiterCluster,
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * Request budgets per key. Keys starting with `address:` (callers without credentials, and the
 * address behind every anonymous visitor) get the per-address budget; every other key (a user,
 * an API key, an anonymous id) the per-principal one.
 */
export interface RateLimiter {
  /** Takes one request from `key`'s budget; when none is left, says how many seconds until one is. */
  take(key: string): RateDecision | Promise<RateDecision>;
}

export const unlimited: RateLimiter = { take: () => ({ allowed: true }) };

export interface Budget {
  /** Requests per minute; 0 means no limit. */
  perMinute: number;
  /** Most requests in a burst (the bucket's size). */
  burst: number;
}

export interface RateLimitSettings extends Budget {
  /** The budget of one client address; defaults to the per-principal one. */
  perAddress?: Budget;
}

const isAddressKey = (key: string) => key.startsWith('address:');

/**
 * In-process token buckets, refilled continuously. Each API instance enforces its own budget, so
 * N instances allow N times as much; RATE_LIMIT_STORE=postgres shares them (and the workers of
 * one cluster share theirs: createClusterRateLimiter).
 */
export function createRateLimiter({
  perMinute,
  burst,
  perAddress = { perMinute, burst },
  maxKeys = 100_000,
  now = () => performance.now(),
}: RateLimitSettings & {
  /** Buckets kept at most; the least recently used go first, so memory stays bounded. */
  maxKeys?: number;
  now?: () => number;
}): RateLimiter {
  const principals = tokenBuckets({ perMinute, burst }, maxKeys, now);
  const addresses = tokenBuckets(perAddress, maxKeys, now);
  if (principals === null && addresses === null) return unlimited;
  return {
    take: (key) => (isAddressKey(key) ? addresses : principals)?.(key) ?? { allowed: true },
  };
}

function tokenBuckets(
  { perMinute, burst }: Budget,
  maxKeys: number,
  now: () => number,
): ((key: string) => RateDecision) | null {
  if (perMinute === 0) return null;
  const refillPerMs = perMinute / 60_000;
  // A Map iterates in insertion order; re-inserting on use keeps the stalest bucket first.
  const buckets = new Map<string, { tokens: number; at: number }>();
  return (key) => {
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
  };
}

/**
 * Budgets shared by every API instance through PostgreSQL (rate-limiter-flexible's
 * RateLimiterPostgres on the `rate_limits` table the migrations create): a fixed one-minute
 * window of `perMinute` requests per key, counted with one upsert per request.
 * When the database cannot be asked, each instance falls back to counting on its own
 * (the library's insurance limiter) rather than refusing everyone.
 */
export function createPostgresRateLimiter({
  pool,
  ...settings
}: RateLimitSettings & { pool: Pool; logger: Logger }): RateLimiter {
  return createSharedRateLimiter({
    ...settings,
    store: (prefix, { perMinute }) =>
      new RateLimiterPostgres({
        storeClient: pool,
        storeType: 'pool',
        tableName: 'rate_limits',
        // Created by the migrations: the API's runtime role needs no DDL.
        tableCreated: true,
        clearExpiredByTimeout: true,
        keyPrefix: prefix,
        points: perMinute,
        duration: 60,
        insuranceLimiter: new RateLimiterMemory({ keyPrefix: prefix, points: perMinute, duration: 60 }),
      }),
  });
}

/**
 * Budgets shared by the workers of one API cluster (API_WORKERS > 1) with the in-memory store:
 * the primary keeps the counts (rate-limiter-flexible's RateLimiterClusterMaster, started by
 * `runApiCluster`) and each worker asks it over IPC, so N workers do not give N times the budget.
 * A fixed one-minute window, like the PostgreSQL store.
 */
export function createClusterRateLimiter(settings: RateLimitSettings & { logger: Logger }): RateLimiter {
  return createSharedRateLimiter({
    ...settings,
    // Past this the request goes through (see below) rather than wait on a stuck primary.
    store: (prefix, { perMinute }) =>
      new RateLimiterCluster({ keyPrefix: prefix, points: perMinute, duration: 60, timeoutMs: 1_000 }),
  });
}

/**
 * A shared store's budgets, with this process's token buckets in front of them, so a flood from
 * one caller is refused without a round trip to the store.
 */
function createSharedRateLimiter({
  store,
  logger,
  ...settings
}: RateLimitSettings & {
  logger: Logger;
  /** A fixed window of `perMinute` requests per key under `prefix`. */
  store: (prefix: string, budget: Budget) => RateLimiterAbstract;
}): RateLimiter {
  const local = createRateLimiter(settings);
  const shared = (prefix: string, budget: Budget) => (budget.perMinute === 0 ? null : store(prefix, budget));
  const principals = shared('principal', settings);
  const addresses = shared('address', settings.perAddress ?? settings);
  return {
    async take(key) {
      const first = await local.take(key);
      if (!first.allowed) return first;
      const limiter = isAddressKey(key) ? addresses : principals;
      if (limiter === null) return first;
      try {
        await limiter.consume(key);
        return { allowed: true };
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) {
          return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) };
        }
        // Neither the store nor the insurance answered: let the request through rather than fail it.
        logger.warn({ err: rejection }, 'rate limit store failed; request allowed');
        return { allowed: true };
      }
    },
  };
}
