import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { check, createdAt, deletedAt, touchUpdatedAt, updatedAt, uuidPrimaryKey } from './columns.ts';
import { ChatSessionSchema } from './conversation.ts';
import { EntityNodeSchema } from './graph.ts';
import { ProjectSchema, UserSchema } from './identity.ts';

/** open → running → completed | failed | cancelled (the transitions are in @threadstore/domain). */
export const INVESTIGATION_STATUSES = ['open', 'running', 'completed', 'failed', 'cancelled'] as const;
export type InvestigationStatus = (typeof INVESTIGATION_STATUSES)[number];

/** A research task an agent carries out for a user, with its findings and how sure it is. */
export const InvestigationSchema = defineEntity({
  name: 'Investigation',
  tableName: 'investigations',
  properties: {
    id: uuidPrimaryKey(),
    owner: () => p.manyToOne(UserSchema).deleteRule('cascade'),
    project: () =>
      p.manyToOne(ProjectSchema).nullable().deleteRule('set null').index('investigations_project_id_index'),
    session: () =>
      p.manyToOne(ChatSessionSchema).nullable().deleteRule('set null').index('investigations_session_id_index'),
    title: p.string().length(512),
    query: p.text(),
    status: p.enum(INVESTIGATION_STATUSES).default('open'),
    /** The overall result as structured data (seed 000 kept its findings here); findings proper are rows. */
    findings: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    confidence: p.decimal('number').precision(4).scale(3).nullable(),
    phase: p.string().length(128).nullable(),
    error: p.text().nullable(),
    startedAt: p.datetime().nullable(),
    completedAt: p.datetime().nullable(),
    // Last sign of life of a running investigation; the stuck-run reaper reads it.
    lastProgressAt: p.datetime().nullable(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: deletedAt(),
  },
  indexes: [
    { name: 'investigations_owner_created_index', properties: ['owner', 'createdAt'] },
    {
      name: 'investigations_running_index',
      expression:
        'create index "investigations_running_index" on "investigations" ("last_progress_at") where "status" = \'running\'',
    },
  ],
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

/** One finding of an investigation, appended (never edited), with how sure it is and its evidence. */
export const InvestigationFindingSchema = defineEntity({
  name: 'InvestigationFinding',
  tableName: 'investigation_findings',
  properties: {
    id: uuidPrimaryKey(),
    investigation: () => p.manyToOne(InvestigationSchema).deleteRule('cascade'),
    summary: p.text(),
    details: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    confidence: p.decimal('number').precision(4).scale(3),
    evidenceMessageIds: p.array().defaultRaw(`'{}'`),
    evidenceEntityIds: p.array().defaultRaw(`'{}'`),
    evidenceUrls: p.array().defaultRaw(`'{}'`),
    createdAt: createdAt(),
  },
  indexes: [
    { name: 'investigation_findings_investigation_created_index', properties: ['investigation', 'createdAt', 'id'] },
  ],
  checks: [check('investigation_findings', 'confidence_range', 'confidence >= 0 and confidence <= 1')],
});
export type InvestigationFinding = InferEntity<typeof InvestigationFindingSchema>;

/** A chat session that belongs to an investigation (its agents' conversations). */
export const InvestigationSessionSchema = defineEntity({
  name: 'InvestigationSession',
  tableName: 'investigation_sessions',
  properties: {
    investigation: () => p.manyToOne(InvestigationSchema).primary().deleteRule('cascade'),
    session: () =>
      p.manyToOne(ChatSessionSchema).primary().deleteRule('cascade').index('investigation_sessions_session_id_index'),
    createdAt: createdAt(),
  },
});
export type InvestigationSession = InferEntity<typeof InvestigationSessionSchema>;

/** An entity-graph node an investigation is about. */
export const InvestigationEntitySchema = defineEntity({
  name: 'InvestigationEntity',
  tableName: 'investigation_entities',
  properties: {
    investigation: () => p.manyToOne(InvestigationSchema).primary().deleteRule('cascade'),
    node: () =>
      p.manyToOne(EntityNodeSchema).primary().deleteRule('cascade').index('investigation_entities_node_id_index'),
    createdAt: createdAt(),
  },
});
export type InvestigationEntity = InferEntity<typeof InvestigationEntitySchema>;
