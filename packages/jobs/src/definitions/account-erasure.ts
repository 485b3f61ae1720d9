import * as z from 'zod';
import { defineJob } from '../define.ts';

export const accountErasurePayload = z.object({
  /**
   * A running erasure with no batch for this long has lost its process (killed, crashed, its
   * request dropped); this job finishes it. Erasures beat every batch, so a live one is never taken.
   */
  staleAfterSeconds: z.number().int().min(0).max(86_400).default(120),
  /** The most rows one transaction deletes. */
  batchSize: z.number().int().min(1).max(10_000).default(5_000),
});
export type AccountErasurePayload = z.output<typeof accountErasurePayload>;

export const accountErasureJob = defineJob({
  name: 'account-erasure',
  description:
    'Finishes account erasures whose process died half-way (account.erase killed or crashed), so an ' +
    'erasure once started always completes, leaving only its receipt.',
  payload: accountErasurePayload,
  queue: { expireInSeconds: 3_600, heartbeatSeconds: 60, retryLimit: 3, retryDelay: 60, retryBackoff: true },
  // Often: an interrupted erasure leaves an account shut but not yet gone.
  schedule: { cron: '*/5 * * * *' },
});
