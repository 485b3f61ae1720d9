import type { ContentLimits, TAwardXpInput, TAwardXpOutput } from '@threadstore/contract';
import { ForeignKeyConstraintViolationException, type EntityManager } from '@threadstore/db';
import { DomainError, notFound } from '../errors.ts';
import type { Actor } from '../principal.ts';
import { cleanJsonObject } from '../sessions/content.ts';
import { insertLedgerRow } from './sql.ts';

/** What an award from a backend is keyed by in the ledger, apart from the server's own rules' keys. */
const eventRef = (sourceEventId: string) => `event:${sourceEventId}`;

/**
 * Whether the principal may award XP: an API key with the `academy.award` scope whose owner is an
 * administrator. Nothing a learner holds qualifies: their bearer token is not a key, and they cannot
 * create a key with this scope (createApiKey refuses it to non-administrators).
 */
export function assertMayAward(actor: Actor): void {
  const { principal } = actor;
  if (principal.kind !== 'apiKey' || !principal.scopes.includes('academy.award') || principal.role !== 'admin') {
    throw new DomainError('FORBIDDEN', "awarding XP needs an administrator's API key with the 'academy.award' scope", {
      scope: 'academy.award',
    });
  }
}

/**
 * One ledger row for the learner, once per source event: a retry (or a concurrent duplicate)
 * returns the row the first call wrote and pays nothing; the same event id with another amount or
 * reason is a CONFLICT. Totals show it after the next xp-rollup.
 */
export async function awardXp(
  em: EntityManager,
  actor: Actor,
  input: TAwardXpInput,
  limits: ContentLimits,
): Promise<TAwardXpOutput> {
  assertMayAward(actor);
  const metadata = cleanJsonObject(input.metadata, 'metadata', limits) ?? {};
  let result;
  try {
    result = await insertLedgerRow(
      em,
      actor,
      {
        userId: input.userId,
        amount: input.amount,
        reason: input.reason,
        sourceRef: eventRef(input.sourceEventId),
        metadata,
      },
      'academy.award',
    );
  } catch (error) {
    if (error instanceof ForeignKeyConstraintViolationException) throw notFound('learner');
    throw error;
  }
  const { row, inserted } = result;
  if (!inserted && (row.amount !== input.amount || row.reason !== input.reason)) {
    throw new DomainError(
      'CONFLICT',
      'this source event was already awarded to this learner with another amount or reason',
      {
        field: 'sourceEventId',
        awarded: { amount: row.amount, reason: row.reason },
      },
    );
  }
  return {
    transactionId: row.id,
    awarded: inserted,
    amount: row.amount,
    reason: row.reason,
    sourceEventId: input.sourceEventId,
    createdAt: new Date(row.created_at).toISOString(),
  };
}
