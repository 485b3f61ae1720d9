import { AuditLogSchema, type EntityManager } from '@threadstore/db';
import { auditActorOf, type Actor } from './principal.ts';

export interface AuditEntry {
  /** `<domain>.<verb>`, the procedure's name: `sessions.create`, `apiKeys.revoke`. */
  action: string;
  subjectType?: string;
  subjectId?: string;
  /** What changed, never secrets (a key's hash, a password) and never message content. */
  details?: Record<string, unknown>;
}

/**
 * Queues an audit row on `em`. Call it inside the mutation's own transaction, so the trail and
 * the change commit together or not at all.
 */
export function recordAudit(em: EntityManager, actor: Actor, entry: AuditEntry): void {
  em.create(AuditLogSchema, {
    ...auditActorOf(actor.principal),
    action: entry.action,
    subjectType: entry.subjectType ?? null,
    subjectId: entry.subjectId ?? null,
    details: entry.details ?? {},
    requestId: actor.requestId,
  });
}
