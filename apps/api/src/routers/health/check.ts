import { publicProcedure } from '../../trpc/init.ts';
import { API_VERSION } from '../../version.ts';
import { ZHealthCheckOutput } from './check.types.ts';

/** The API's own view of its health; `degraded` rather than an error, so callers can show why. */
export const check = publicProcedure.output(ZHealthCheckOutput).query(async ({ ctx }) => {
  const { ready, database } = await ctx.readiness.current();
  return {
    status: ready ? 'ok' : 'degraded',
    version: API_VERSION,
    uptimeSeconds: Math.floor(process.uptime()),
    database,
  };
});
