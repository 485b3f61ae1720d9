import type { MikroORM } from '@threadstore/db';
import { createLogger } from '@threadstore/runtime';
import { jobs } from '@threadstore/worker/jobs';

/**
 * Runs the worker's xp-rollup (its registered handler, through the job contract the API already
 * knows) until nothing visible is left unfolded: what makes awards show in totals and boards.
 */
export async function settleXp(orm: MikroORM): Promise<void> {
  const job = jobs.find((candidate) => candidate.name === 'xp-rollup');
  if (job === undefined) throw new Error('the worker registers no xp-rollup job');
  for (let attempt = 0; attempt < 300; attempt++) {
    const { details } = await job.handler({
      em: orm.em.fork(),
      orm,
      payload: job.payload.parse({}),
      signal: new AbortController().signal,
      logger: createLogger('test-xp-rollup', 'silent'),
      reportProgress: async () => {},
    });
    if (details?.['unfoldedRows'] === 0 && details['rebuild'] === null) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the xp-rollup did not settle within 30 s');
}
