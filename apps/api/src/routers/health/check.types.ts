import * as z from 'zod';

export const ZHealthCheckOutput = z.object({
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  uptimeSeconds: z.number().int().nonnegative(),
  database: z.object({
    reachable: z.boolean(),
    latencyMs: z.number().nonnegative().nullable(),
    pendingMigrations: z.array(z.string()),
  }),
});
export type THealthCheckOutput = z.infer<typeof ZHealthCheckOutput>;
