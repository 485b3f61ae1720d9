import { DEFAULT_CONTENT_LIMITS, type ContentLimits } from '@threadstore/contract';
import { envBoolean, logEnvSchema, queueEnvSchema, serviceDatabaseEnvSchema } from '@threadstore/runtime';
import { availableParallelism } from 'node:os';
import * as z from 'zod';
import type { RateLimitSettings } from './trpc/rate-limit.ts';
import { chatEnvShape } from './chat-env.ts';
import { parseCorsOrigins } from './web/cors.ts';
import { DEFAULT_WEB_DIST_DIR } from './web/static-site.ts';

const positiveInt = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

/** Everything the API reads from its environment; parsed once, in main, and passed down. */
export const apiEnvSchema = serviceDatabaseEnvSchema
  .extend(logEnvSchema.shape)
  // The admin procedures queue job runs for the worker through pg-boss.
  .extend(queueEnvSchema.shape)
  .extend({
    API_HOST: z.string().trim().min(1).default('0.0.0.0'),
    // 0 lets the OS pick a free port (tests); the chosen one is logged with "listening".
    API_PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
    // API processes serving the port (node:cluster): a number, or `auto` for one per core. Each
    // has its own pool of DATABASE_POOL_MAX connections; with more than one, a primary process
    // forks them, restarts one that crashes, adds up their /metrics and holds the in-memory rate
    // limits they share. One (the default) runs the API in this process, with no primary.
    API_WORKERS: z
      .union([z.literal('auto'), z.coerce.number().int().min(1).max(64)])
      .default(1)
      .transform((value) => (value === 'auto' ? availableParallelism() : value)),
    // Longest a SIGTERM may wait for in-flight requests and the pool before the process exits anyway.
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1).default(10_000),
    // How long /readyz waits for the database before answering 503, so a hung database makes the
    // probe fail fast instead of the orchestrator's probe timing out with no explanation.
    READINESS_TIMEOUT_MS: z.coerce.number().int().min(1).default(2_000),
    // Error responses carry the server-side stack only when this is on (local debugging).
    API_EXPOSE_STACK_TRACES: envBoolean.default(false),

    // Signed-in users. HS256 with a shared secret, or an OIDC provider's JWKS (RS256/ES256…).
    AUTH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    AUTH_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
    AUTH_JWT_ISSUER: z.string().trim().min(1).optional(),
    AUTH_JWT_AUDIENCE: z.string().trim().min(1).optional(),
    // Local accounts (auth.signUp / auth.signIn) for installs without a provider; they need
    // AUTH_JWT_SECRET to sign the tokens they hand out.
    AUTH_LOCAL_ACCOUNTS: envBoolean.default(false),
    AUTH_LOCAL_TOKEN_TTL_SECONDS: positiveInt(24 * 60 * 60),
    // Anonymous visitors (X-Session-ID) may create and use sessions.
    AUTH_ALLOW_ANONYMOUS: envBoolean.default(true),

    // Bodies over this are answered 413 before a byte of them is parsed.
    LIMIT_MAX_BODY_BYTES: positiveInt(8 * 1024 * 1024),
    // A messages.import request (NDJSON, parsed as it streams, all or nothing): larger ones get 413.
    // Its rows wait in memory until the sessions are locked (about the body's size, per import in
    // flight). At about 600 bytes a message the default holds some 100,000 messages; import more as
    // several requests (the client's importMessages does).
    LIMIT_MAX_IMPORT_BYTES: positiveInt(64 * 1024 * 1024),
    LIMIT_MAX_CONTENT_BYTES: positiveInt(DEFAULT_CONTENT_LIMITS.maxContentBytes),
    LIMIT_MAX_JSON_BYTES: positiveInt(DEFAULT_CONTENT_LIMITS.maxJsonBytes),
    LIMIT_MAX_JSON_DEPTH: positiveInt(DEFAULT_CONTENT_LIMITS.maxJsonDepth),
    LIMIT_MAX_BATCH_SIZE: positiveInt(DEFAULT_CONTENT_LIMITS.maxBatchSize),
    // Calls in one batched tRPC request (the typed client batches calls made in the same tick);
    // larger batches get a 400, so one request cannot fan out into hundreds of queries.
    LIMIT_MAX_BATCH_CALLS: positiveInt(100),
    // Calls without credentials (anonymous visitors, no principal) running at once, and waiting
    // beyond that; keep it below DATABASE_POOL_MAX so signed-in callers always find a connection.
    LIMIT_ANONYMOUS_CONCURRENCY: positiveInt(5),
    LIMIT_ANONYMOUS_QUEUE: z.coerce.number().int().min(0).default(500),
    // Pooled connections mutations leave to reads: at most the pool's size minus this many
    // mutations run at once in each API process (at least one), the rest wait their turn in memory,
    // up to LIMIT_WRITE_QUEUE of them (beyond that: SERVICE_UNAVAILABLE, retry after 1 s). A write
    // holds its connection until its commit is flushed to disk, so without a reserve one slow
    // WAL flush leaves every connection to writes waiting on it and every read queues behind them.
    DATABASE_POOL_READ_RESERVE: z.coerce.number().int().min(0).default(3),
    LIMIT_WRITE_QUEUE: z.coerce.number().int().min(0).default(2_000),
    LIMIT_DEFAULT_PAGE_SIZE: positiveInt(DEFAULT_CONTENT_LIMITS.defaultPageSize),
    LIMIT_MAX_PAGE_SIZE: positiveInt(DEFAULT_CONTENT_LIMITS.maxPageSize),

    // Per principal (user, API key, anonymous id; the client address when there is none):
    // a token bucket refilled at this rate, holding at most RATE_LIMIT_BURST requests. 0 turns it off.
    RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(1_200),
    RATE_LIMIT_BURST: positiveInt(200),
    // The budget of one client address, spent by callers without credentials and by every
    // anonymous visitor from it (a fresh X-Session-ID per request must not buy a fresh budget).
    // Defaults to the per-principal values.
    RATE_LIMIT_ADDRESS_PER_MINUTE: z.coerce.number().int().min(0).optional(),
    RATE_LIMIT_ADDRESS_BURST: z.coerce.number().int().min(1).optional(),
    // memory: each API instance counts on its own. postgres: every instance shares the counts
    // (rate_limits table), so N instances do not give N times the budget.
    RATE_LIMIT_STORE: z.enum(['memory', 'postgres']).default('memory'),

    // GET /metrics in the Prometheus text format; with a token, only for `Authorization: Bearer <token>`.
    METRICS_ENABLED: envBoolean.default(true),
    METRICS_BEARER_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),

    // The web app (apps/web's build) served at /; empty turns the page off (API only).
    WEB_DIST_DIR: z.string().default(DEFAULT_WEB_DIST_DIR),
    // Origins whose pages may call the API from a browser (the page served at / needs none):
    // comma-separated, e.g. `https://app.example.com,http://localhost:5173`, or `*` for any.
    CORS_ORIGINS: z.string().default('').transform(parseCorsOrigins),

    // The conversation loop (chat.send): defaults a project's `settings.chat` may override.
    ...chatEnvShape,
  })
  .superRefine((env, ctx) => {
    if (env.AUTH_JWKS_URL !== undefined && env.AUTH_JWT_ISSUER === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_JWT_ISSUER'],
        message: 'is required with AUTH_JWKS_URL',
      });
    }
    if (env.AUTH_LOCAL_ACCOUNTS && env.AUTH_JWT_SECRET === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_JWT_SECRET'],
        message: 'is required with AUTH_LOCAL_ACCOUNTS (it signs the tokens local accounts receive)',
      });
    }
    // A secret alone says whose tokens to trust with it only through an issuer (or local accounts);
    // refusing the setup at start beats refusing every token at run time.
    if (env.AUTH_JWT_SECRET !== undefined && env.AUTH_JWT_ISSUER === undefined && !env.AUTH_LOCAL_ACCOUNTS) {
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_JWT_ISSUER'],
        message: 'is required with AUTH_JWT_SECRET unless AUTH_LOCAL_ACCOUNTS is on (tokens are checked against it)',
      });
    }
    if (env.LIMIT_DEFAULT_PAGE_SIZE > env.LIMIT_MAX_PAGE_SIZE) {
      ctx.addIssue({
        code: 'custom',
        path: ['LIMIT_DEFAULT_PAGE_SIZE'],
        message: 'must not exceed LIMIT_MAX_PAGE_SIZE',
      });
    }
  });
export type ApiConfig = z.infer<typeof apiEnvSchema>;

/** The rate-limit budgets the settings describe. */
export function rateLimitSettingsFrom(
  config: Pick<
    ApiConfig,
    'RATE_LIMIT_PER_MINUTE' | 'RATE_LIMIT_BURST' | 'RATE_LIMIT_ADDRESS_PER_MINUTE' | 'RATE_LIMIT_ADDRESS_BURST'
  >,
): RateLimitSettings {
  return {
    perMinute: config.RATE_LIMIT_PER_MINUTE,
    burst: config.RATE_LIMIT_BURST,
    perAddress: {
      perMinute: config.RATE_LIMIT_ADDRESS_PER_MINUTE ?? config.RATE_LIMIT_PER_MINUTE,
      burst: config.RATE_LIMIT_ADDRESS_BURST ?? config.RATE_LIMIT_BURST,
    },
  };
}

export function contentLimitsFrom(
  config: Pick<
    ApiConfig,
    | 'LIMIT_MAX_CONTENT_BYTES'
    | 'LIMIT_MAX_JSON_BYTES'
    | 'LIMIT_MAX_JSON_DEPTH'
    | 'LIMIT_MAX_BATCH_SIZE'
    | 'LIMIT_DEFAULT_PAGE_SIZE'
    | 'LIMIT_MAX_PAGE_SIZE'
  >,
): ContentLimits {
  return {
    maxContentBytes: config.LIMIT_MAX_CONTENT_BYTES,
    maxJsonBytes: config.LIMIT_MAX_JSON_BYTES,
    maxJsonDepth: config.LIMIT_MAX_JSON_DEPTH,
    maxBatchSize: config.LIMIT_MAX_BATCH_SIZE,
    defaultPageSize: config.LIMIT_DEFAULT_PAGE_SIZE,
    maxPageSize: config.LIMIT_MAX_PAGE_SIZE,
  };
}
