import type {
  TListRetentionPoliciesInput,
  TRetentionChange,
  TRetentionPolicy,
  TSetRetentionPolicyInput,
} from '@threadstore/contract';
import type { EntityManager } from '@threadstore/db';
import { DomainError, notFound } from '../errors.ts';
import { query } from '../messages/sql.ts';
import { auditActorOf, type Actor } from '../principal.ts';
import {
  DELETE_POLICY_BY_ID,
  DELETE_POLICY_BY_KEY,
  INSERT_AUDIT,
  LIST_POLICIES,
  POLICY_BY_KEY,
  SUBJECT_EXISTS,
  UPSERT_POLICY,
} from './sql.ts';

/** Who changes a policy: a principal over the API, or an operator's command line. */
export type PolicyActor = Actor | { system: string };

interface PolicyRow {
  id: string;
  scope: TRetentionPolicy['scope'];
  user_id: string | null;
  project_id: string | null;
  target: TRetentionPolicy['target'];
  keep_for_days: number | null;
  legal_hold: boolean;
  note: string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

/** A policy's key and rule as the table's constraints want them, or a BAD_REQUEST saying why not. */
export function normalizePolicy(input: Omit<TSetRetentionPolicyInput, 'note'> | TRetentionChange) {
  const { scope, target } = input;
  const userId = input.userId ?? null;
  const projectId = input.projectId ?? null;
  const legalHold = input.legalHold === true;
  if (scope === 'global' && (userId !== null || projectId !== null)) {
    throw new DomainError('BAD_REQUEST', 'a global policy names no user or project');
  }
  if (scope === 'user' && (userId === null || projectId !== null)) {
    throw new DomainError('BAD_REQUEST', "a user's policy names the user (userId) and no project");
  }
  if (scope === 'project' && (projectId === null || userId !== null)) {
    throw new DomainError('BAD_REQUEST', "a project's policy names the project (projectId) and no user");
  }
  const removing = 'action' in input && input.action === 'remove';
  if (!removing) {
    if (legalHold && (target !== 'all' || scope === 'global' || input.keepForDays !== undefined)) {
      throw new DomainError(
        'BAD_REQUEST',
        "a legal hold is for a user or project, with target 'all' and no keepForDays",
      );
    }
    if (!legalHold && (target === 'all' || input.keepForDays === undefined)) {
      throw new DomainError('BAD_REQUEST', "a rule names a target other than 'all' and keepForDays");
    }
  }
  return { scope, userId, projectId, target, keepForDays: input.keepForDays ?? null, legalHold };
}

export async function listRetentionPolicies(
  em: EntityManager,
  filters: TListRetentionPoliciesInput,
): Promise<TRetentionPolicy[]> {
  const rows = await query<PolicyRow>(em, LIST_POLICIES, [
    filters.scope ?? null,
    filters.userId ?? null,
    filters.projectId ?? null,
    filters.legalHold ?? null,
  ]);
  return rows.map(toPolicy);
}

/** Sets (creates or replaces) a policy or legal hold; audited with what it replaced. */
export async function setRetentionPolicy(
  em: EntityManager,
  actor: PolicyActor,
  input: TSetRetentionPolicyInput,
): Promise<TRetentionPolicy> {
  const policy = normalizePolicy(input);
  return em.transactional(async (tx) => {
    const [exists] = await query<{ user_exists: boolean; project_exists: boolean }>(tx, SUBJECT_EXISTS, [
      policy.userId,
      policy.projectId,
    ]);
    if (policy.userId !== null && !exists!.user_exists) throw notFound('user');
    if (policy.projectId !== null && !exists!.project_exists) throw notFound('project');
    const key = [policy.scope, policy.userId, policy.projectId, policy.target];
    const [before] = await query<PolicyRow>(tx, POLICY_BY_KEY, key);
    const [after] = await query<PolicyRow>(tx, UPSERT_POLICY, [
      ...key,
      policy.keepForDays,
      policy.legalHold,
      input.note ?? null,
    ]);
    await audit(tx, actor, policy.legalHold ? 'retention.placeHold' : 'retention.setPolicy', after!.id, {
      before: before === undefined ? null : summary(before),
      after: summary(after!),
    });
    return toPolicy(after!);
  });
}

/** Removes a policy or lifts a hold, by id; audited. */
export async function removeRetentionPolicy(
  em: EntityManager,
  actor: PolicyActor,
  id: string,
): Promise<TRetentionPolicy> {
  return em.transactional(async (tx) => {
    const [removed] = await query<PolicyRow>(tx, DELETE_POLICY_BY_ID, [id]);
    if (removed === undefined) throw notFound('retention policy');
    await audit(tx, actor, removed.legal_hold ? 'retention.liftHold' : 'retention.removePolicy', id, {
      before: summary(removed),
    });
    return toPolicy(removed);
  });
}

/**
 * The statements that make `changes` on a connection (the retention job's preview runs them in
 * a transaction it rolls back, so its dry run counts as if they had been made).
 */
export function previewStatements(changes: readonly TRetentionChange[]): { text: string; values: unknown[] }[] {
  return changes.map((change) => {
    const policy = normalizePolicy(change);
    const key = [policy.scope, policy.userId, policy.projectId, policy.target];
    return change.action === 'remove'
      ? { text: DELETE_POLICY_BY_KEY, values: key }
      : { text: UPSERT_POLICY, values: [...key, policy.keepForDays, policy.legalHold, 'preview'] };
  });
}

async function audit(
  tx: EntityManager,
  actor: PolicyActor,
  action: string,
  policyId: string,
  details: Record<string, unknown>,
): Promise<void> {
  const who =
    'system' in actor
      ? { actorType: 'system', actorId: actor.system, requestId: null }
      : { ...auditActorOf(actor.principal), requestId: actor.requestId };
  await query(tx, INSERT_AUDIT, [who.actorType, who.actorId, action, policyId, JSON.stringify(details), who.requestId]);
}

/** What an audit row keeps of a policy: the rule, and whose it is by id. */
function summary(row: PolicyRow) {
  return {
    scope: row.scope,
    userId: row.user_id,
    projectId: row.project_id,
    target: row.target,
    keepForDays: row.keep_for_days,
    legalHold: row.legal_hold,
  };
}

function toPolicy(row: PolicyRow): TRetentionPolicy {
  return {
    id: row.id,
    scope: row.scope,
    userId: row.user_id,
    projectId: row.project_id,
    target: row.target,
    keepForDays: row.keep_for_days,
    legalHold: row.legal_hold,
    note: row.note,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}
