import type {
  ContentLimits,
  TCompleteSessionInput,
  TFailSessionInput,
  TReportProgressInput,
  TSession,
} from '@threadstore/contract';
import { raw, type ChatSession, type EntityManager } from '@threadstore/db';
import type { Actor } from '../principal.ts';
import { changeOwnedSession } from './change.ts';
import { assertCanApply, SESSION_TRANSITIONS, type SessionAction } from './lifecycle.ts';
import { cleanText } from './content.ts';

/** What an action adds to its audit row, besides the two statuses. */
type RunDetails = Record<string, unknown>;

/**
 * Moves the caller's session through `action` if SESSION_TRANSITIONS allows it from the status
 * it has (checked under the row lock, so two racing calls cannot both leave `running`), else a
 * CONFLICT naming both states. Every action counts as activity.
 */
async function applyRunAction(
  em: EntityManager,
  actor: Actor,
  id: string,
  action: SessionAction,
  apply: (session: ChatSession, now: Date, tx: EntityManager) => RunDetails | Promise<RunDetails>,
): Promise<TSession> {
  return changeOwnedSession(em, actor, id, `sessions.${action}`, async (session, tx) => {
    const from = session.status;
    assertCanApply(action, from);
    const now = new Date();
    session.status = SESSION_TRANSITIONS[action].to;
    session.lastActivityAt = now;
    const details = await apply(session, now, tx);
    return { from, to: session.status, ...details };
  });
}

export async function startSession(em: EntityManager, actor: Actor, id: string): Promise<TSession> {
  return applyRunAction(em, actor, id, 'start', (session, now) => {
    session.startedAt = now;
    // The stuck-run reaper measures silence from here until the first progress report.
    session.lastProgressAt = now;
    return {};
  });
}

/** A sign of life from a running agent: its phase, round and the cost it just incurred. */
export async function reportSessionProgress(
  em: EntityManager,
  actor: Actor,
  { id, phase, round, addCost }: TReportProgressInput,
): Promise<TSession> {
  return applyRunAction(em, actor, id, 'progress', async (session, now, tx) => {
    session.lastProgressAt = now;
    if (phase !== undefined) session.phase = phase;
    if (round !== undefined) session.roundNumber = round;
    if (addCost !== undefined) {
      // Added by PostgreSQL in exact decimal arithmetic (JS numbers would round) and relative to
      // the stored value, so even a writer that skips the row lock cannot lose an addition.
      session.totalCost = raw<string>('total_cost + ?', [addCost]);
      await tx.flush();
      await tx.refresh(session);
    }
    return { phase: phase ?? null, round: round ?? null, addCost: addCost ?? null };
  });
}

export async function completeSession(
  em: EntityManager,
  actor: Actor,
  input: TCompleteSessionInput,
  limits: ContentLimits,
): Promise<TSession> {
  const synthesis = cleanText(input.synthesis, 'synthesis', limits);
  const finalRecommendation = cleanText(input.finalRecommendation, 'finalRecommendation', limits);
  return applyRunAction(em, actor, input.id, 'complete', (session, now) => {
    session.finishedAt = now;
    if (synthesis !== undefined) session.synthesis = synthesis;
    if (finalRecommendation !== undefined) session.finalRecommendation = finalRecommendation;
    return {};
  });
}

export async function failSession(
  em: EntityManager,
  actor: Actor,
  input: TFailSessionInput,
  limits: ContentLimits,
): Promise<TSession> {
  const error = cleanText(input.error, 'error', limits);
  return applyRunAction(em, actor, input.id, 'fail', (session, now) => {
    session.finishedAt = now;
    session.error = error;
    return {};
  });
}

export async function killSession(em: EntityManager, actor: Actor, id: string): Promise<TSession> {
  return applyRunAction(em, actor, id, 'kill', (session, now) => {
    session.finishedAt = now;
    return {};
  });
}
