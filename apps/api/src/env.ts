import { logEnvSchema, serviceDatabaseEnvSchema } from '@threadstore/runtime';
import * as z from 'zod';

/** Everything the API reads from its environment; parsed once, in main, and passed down. */
export const apiEnvSchema = serviceDatabaseEnvSchema.extend(logEnvSchema.shape).extend({
  API_HOST: z.string().trim().min(1).default('0.0.0.0'),
  // 0 lets the OS pick a free port (tests); the chosen one is logged with "listening".
  API_PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  // Longest a SIGTERM may wait for in-flight requests and the pool before the process exits anyway.
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1).default(10_000),
  // How long /readyz waits for the database before answering 503, so a hung database makes the
  // probe fail fast instead of the orchestrator's probe timing out with no explanation.
  READINESS_TIMEOUT_MS: z.coerce.number().int().min(1).default(2_000),
});
export type ApiConfig = z.infer<typeof apiEnvSchema>;
