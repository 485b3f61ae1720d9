import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/**
 * Request budgets shared by every API instance (RATE_LIMIT_STORE=postgres): one row per caller
 * key and window, in the layout rate-limiter-flexible's RateLimiterPostgres reads and upserts
 * (it would otherwise create the table at run time, which a runtime role without DDL cannot).
 */
export const RateLimitSchema = defineEntity({
  name: 'RateLimit',
  tableName: 'rate_limits',
  properties: {
    key: p.string().length(255).primary(),
    points: p.integer().default(0),
    // Epoch milliseconds when the window ends; the library's own column type.
    expire: p.bigint().nullable(),
  },
});
export type RateLimit = InferEntity<typeof RateLimitSchema>;
