import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { check, createdAt, deletedAt, touchUpdatedAt, updatedAt, uuidPrimaryKey } from './columns.ts';
import { ChatSessionSchema } from './conversation.ts';
import { UserSchema } from './identity.ts';

export const INVESTIGATION_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const;
export type InvestigationStatus = (typeof INVESTIGATION_STATUSES)[number];

/** A research task an agent carries out for a user, with its findings and how sure it is. */
export const InvestigationSchema = defineEntity({
  name: 'Investigation',
  tableName: 'investigations',
  properties: {
    id: uuidPrimaryKey(),
    owner: () => p.manyToOne(UserSchema).deleteRule('cascade'),
    session: () =>
      p.manyToOne(ChatSessionSchema).nullable().deleteRule('set null').index('investigations_session_id_index'),
    title: p.string().length(512),
    query: p.text(),
    status: p.enum(INVESTIGATION_STATUSES).default('pending'),
    findings: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    confidence: p.decimal('number').precision(4).scale(3).nullable(),
    error: p.text().nullable(),
    startedAt: p.datetime().nullable(),
    completedAt: p.datetime().nullable(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: deletedAt(),
  },
  indexes: [{ name: 'investigations_owner_created_index', properties: ['owner', 'createdAt'] }],
  checks: [
    check('investigations', 'confidence_range', 'confidence >= 0 and confidence <= 1'),
    check(
      'investigations',
      'completed_after_start',
      'completed_at is null or started_at is null or completed_at >= started_at',
    ),
  ],
  triggers: [touchUpdatedAt()],
});
export type Investigation = InferEntity<typeof InvestigationSchema>;
