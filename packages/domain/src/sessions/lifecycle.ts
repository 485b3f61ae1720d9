import type { TSessionStatus } from '@threadstore/contract';
import type { SessionStatus } from '@threadstore/db';
import { DomainError } from '../errors.ts';

/**
 * The run lifecycle, the one place it is written down: for each action, the statuses it may
 * start from and the status it leaves. `progress` keeps a running session running.
 *
 * - A run that never started may still be killed (the user gave up waiting) or failed (the
 *   agent could not even begin: bad configuration, provider down); it may not be completed.
 * - completed, failed and killed are final: nothing restarts a finished run.
 * - Soft deletion is not part of it: `deleted_at` marks a deleted session and the status keeps
 *   telling how its run ended. The `deleted` value the column allows is never written.
 *
 * The API and the worker's stuck-run reaper (which fails stale running sessions) both read this.
 */
export const SESSION_TRANSITIONS = {
  start: { from: ['created'], to: 'running' },
  progress: { from: ['running'], to: 'running' },
  complete: { from: ['running'], to: 'completed' },
  fail: { from: ['created', 'running'], to: 'failed' },
  kill: { from: ['created', 'running'], to: 'killed' },
} as const satisfies Record<string, { from: readonly TSessionStatus[]; to: TSessionStatus }>;

export type SessionAction = keyof typeof SESSION_TRANSITIONS;

export function canApply(action: SessionAction, status: SessionStatus): boolean {
  return (SESSION_TRANSITIONS[action].from as readonly SessionStatus[]).includes(status);
}

const VERBS: Record<SessionAction, string> = {
  start: 'start',
  progress: 'report progress on',
  complete: 'complete',
  fail: 'fail',
  kill: 'kill',
};

/** CONFLICT naming both states ("cannot complete a session that is created"), unless `action` is legal. */
export function assertCanApply(action: SessionAction, status: SessionStatus): void {
  if (canApply(action, status)) return;
  const { to } = SESSION_TRANSITIONS[action];
  throw new DomainError('CONFLICT', `cannot ${VERBS[action]} a session that is ${status}`, {
    from: status,
    to,
  });
}
