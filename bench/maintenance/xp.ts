import type { MikroORM } from '@threadstore/db';
import type { JobContract } from '@threadstore/worker/jobs';
import type { LedgerShape } from './dataset.ts';
import { runJob, type TimedRun } from './jobs.ts';
import { appendLedger, resetLedger, seedAcademy } from './seed.ts';

export interface LedgerRuns {
  ledgerRows: number;
  seedSeconds: number;
  /** The first run over the ledger, which rebuilds every learner from it. */
  fromScratch: TimedRun;
  /** One run per round, each after `newRows` rows were appended. */
  incremental: TimedRun[];
}

export interface XpResults {
  small: LedgerRuns;
  large: LedgerRuns;
  learners: number;
  newRows: number;
}

/**
 * The rollup over a small ledger and then, from an empty state again, over the full-size one:
 * from scratch, then `rounds` incremental runs of `newRows` fresh rows each. Comparing the
 * incremental runs of both shows whether their cost follows the new rows or the ledger's size.
 */
export async function measureXp(
  job: JobContract,
  orm: MikroORM,
  url: string,
  shape: LedgerShape,
  rounds: number,
  log: (line: string) => void,
): Promise<XpResults> {
  await seedAcademy(url, shape.learners);
  const ledger = async (rows: number, name: string): Promise<LedgerRuns> => {
    await resetLedger(url);
    log(`xp-rollup: seeding a ${rows.toLocaleString('en-US')}-row ledger`);
    const seedSeconds = await appendLedger(url, { rows, learners: shape.learners, recent: false, tag: name });
    const fromScratch = await runJob(job, orm, { mode: 'rebuild' });
    log(`xp-rollup: from scratch over ${rows.toLocaleString('en-US')} rows in ${fromScratch.seconds.toFixed(2)} s`);
    const incremental: TimedRun[] = [];
    for (let round = 1; round <= rounds; round += 1) {
      await appendLedger(url, { rows: shape.newRows, learners: shape.learners, recent: true, tag: `${name}-${round}` });
      incremental.push(await runJob(job, orm, { mode: 'incremental' }));
    }
    log(
      `xp-rollup: incremental on ${name}: ${incremental.map((run) => (run.seconds * 1000).toFixed(0)).join(', ')} ms`,
    );
    return { ledgerRows: rows, seedSeconds, fromScratch, incremental };
  };
  const small = await ledger(shape.smallRows, 'small');
  const large = await ledger(shape.rows, 'large');
  return { small, large, learners: shape.learners, newRows: shape.newRows };
}
