import type { MikroORM } from '@threadstore/db';
import { rollUpXp } from '@threadstore/domain';
import { xpRollupPayload } from '@threadstore/jobs';

/**
 * Runs the xp-rollup's fold (the domain function the worker's job runs) until nothing visible is
 * left unfolded: what makes awards show in totals and boards.
 */
export async function settleXp(orm: MikroORM): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    const report = await rollUpXp(orm.em.fork(), {
      ...xpRollupPayload.parse({}),
      signal: new AbortController().signal,
      onBatch: async () => {},
    });
    if (report.unfoldedRows === 0 && report.rebuild === null) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the xp-rollup did not settle within 30 s');
}
