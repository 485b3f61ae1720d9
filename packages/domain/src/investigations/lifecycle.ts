import type { TInvestigationStatus } from '@threadstore/contract';
import { DomainError } from '../errors.ts';

/**
 * The investigation lifecycle, the one place it is written down: for each action, the statuses
 * it may start from and the status it leaves. Like a run's: an open investigation may be
 * cancelled or failed before it starts but not completed; completed, failed and cancelled are
 * final. The API and the worker's stuck-run reaper (which fails stale running ones) read this.
 */
export const INVESTIGATION_TRANSITIONS = {
  start: { from: ['open'], to: 'running' },
  progress: { from: ['running'], to: 'running' },
  complete: { from: ['running'], to: 'completed' },
  fail: { from: ['open', 'running'], to: 'failed' },
  cancel: { from: ['open', 'running'], to: 'cancelled' },
} as const satisfies Record<string, { from: readonly TInvestigationStatus[]; to: TInvestigationStatus }>;

export type InvestigationAction = keyof typeof INVESTIGATION_TRANSITIONS;

/** Statuses in which findings may still be appended and links changed. */
export const INVESTIGATION_OPEN_STATUSES: readonly TInvestigationStatus[] = ['open', 'running'];

export function canApplyToInvestigation(action: InvestigationAction, status: TInvestigationStatus): boolean {
  return (INVESTIGATION_TRANSITIONS[action].from as readonly TInvestigationStatus[]).includes(status);
}

const VERBS: Record<InvestigationAction, string> = {
  start: 'start',
  progress: 'report progress on',
  complete: 'complete',
  fail: 'fail',
  cancel: 'cancel',
};

/** CONFLICT naming both states ("cannot complete an investigation that is open"), unless legal. */
export function assertCanApplyToInvestigation(action: InvestigationAction, status: TInvestigationStatus): void {
  if (canApplyToInvestigation(action, status)) return;
  throw new DomainError('CONFLICT', `cannot ${VERBS[action]} an investigation that is ${status}`, {
    from: status,
    to: INVESTIGATION_TRANSITIONS[action].to,
  });
}
