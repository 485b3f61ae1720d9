import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { check } from './columns.ts';

export const AUDIT_ACTOR_TYPES = ['user', 'api_key', 'anonymous', 'system'] as const;
export type AuditActorType = (typeof AUDIT_ACTOR_TYPES)[number];

/**
 * The trail of every mutating call. Deliberately without foreign keys: the record of what a
 * user did must outlive the user (and the session it touched) when those are deleted.
 */
export const AuditLogSchema = defineEntity({
  name: 'AuditLog',
  tableName: 'audit_log',
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    actorType: p.enum(AUDIT_ACTOR_TYPES),
    // A user id, an API key id, an anonymous client id, or a job name for `system`.
    actorId: p.string().length(255).nullable(),
    action: p.string().length(128),
    subjectType: p.string().length(64).nullable(),
    subjectId: p.string().length(255).nullable(),
    details: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    requestId: p.string().length(128).nullable(),
    occurredAt: p
      .datetime()
      .onCreate(() => new Date())
      .defaultRaw('now()'),
  },
  indexes: [
    { name: 'audit_log_actor_index', properties: ['actorType', 'actorId', 'occurredAt'] },
    { name: 'audit_log_subject_index', properties: ['subjectType', 'subjectId', 'occurredAt'] },
    { name: 'audit_log_occurred_at_index', properties: ['occurredAt'], type: 'brin' },
  ],
  checks: [check('audit_log', 'action_not_blank', 'length(action) > 0')],
});
export type AuditLog = InferEntity<typeof AuditLogSchema>;
