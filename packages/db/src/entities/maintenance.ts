import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { check, createdAt, touchUpdatedAt, updatedAt, uuidPrimaryKey } from './columns.ts';
import { ProjectSchema, UserSchema } from './identity.ts';

export const RETENTION_SCOPES = ['global', 'user', 'project'] as const;
export type RetentionScope = (typeof RETENTION_SCOPES)[number];

/**
 * What retention deletes. `all` is only meaningful with a legal hold, which exempts its user or
 * project from every target.
 */
export const RETENTION_TARGETS = [
  'inactive_sessions',
  'soft_deleted',
  'short_term_memories',
  'episodic_memories',
  'anonymous_sessions',
  'all',
] as const;
export type RetentionTarget = (typeof RETENTION_TARGETS)[number];

/**
 * Retention as data: how long each target is kept, globally or for one user or project.
 * The initial migration seeds the global defaults (sessions: 90 days after last activity).
 */
export const RetentionPolicySchema = defineEntity({
  name: 'RetentionPolicy',
  tableName: 'retention_policies',
  properties: {
    id: uuidPrimaryKey(),
    scope: p.enum(RETENTION_SCOPES),
    user: () => p.manyToOne(UserSchema).nullable().deleteRule('cascade').index('retention_policies_user_id_index'),
    project: () =>
      p.manyToOne(ProjectSchema).nullable().deleteRule('cascade').index('retention_policies_project_id_index'),
    target: p.enum(RETENTION_TARGETS),
    keepForDays: p.integer().nullable(),
    legalHold: p.boolean().default(false),
    note: p.text().nullable(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  uniques: [
    {
      // One policy per (scope, subject, target); NULLS NOT DISTINCT makes the global rows unique too.
      name: 'retention_policies_scope_target_unique',
      expression:
        'create unique index "retention_policies_scope_target_unique" on "retention_policies" ("scope", "user_id", "project_id", "target") nulls not distinct',
    },
  ],
  checks: [
    check(
      'retention_policies',
      'scope_subject',
      "(scope = 'global' and user_id is null and project_id is null) or (scope = 'user' and user_id is not null and project_id is null) or (scope = 'project' and project_id is not null and user_id is null)",
    ),
    check('retention_policies', 'keep_for_days_positive', 'keep_for_days > 0'),
    check('retention_policies', 'rule_present', 'legal_hold or keep_for_days is not null'),
    check(
      'retention_policies',
      'legal_hold_covers_all',
      "(legal_hold and target = 'all') or (not legal_hold and target <> 'all')",
    ),
    check('retention_policies', 'global_not_held', "scope <> 'global' or not legal_hold"),
  ],
  triggers: [touchUpdatedAt()],
});
export type RetentionPolicy = InferEntity<typeof RetentionPolicySchema>;

export const MAINTENANCE_OUTCOMES = ['running', 'succeeded', 'failed', 'aborted'] as const;
export type MaintenanceOutcome = (typeof MAINTENANCE_OUTCOMES)[number];

/** One run of a worker job: its receipt (what it did, per target), and its progress while running. */
export const MaintenanceRunSchema = defineEntity({
  name: 'MaintenanceRun',
  tableName: 'maintenance_runs',
  properties: {
    id: uuidPrimaryKey(),
    job: p.string().length(128),
    queueJobId: p.string().length(64).nullable(),
    dryRun: p.boolean().default(false),
    outcome: p.enum(MAINTENANCE_OUTCOMES).default('running'),
    startedAt: p
      .datetime()
      .onCreate(() => new Date())
      .defaultRaw('now()'),
    finishedAt: p.datetime().nullable(),
    rowsAffected: p.bigint('number').default(0),
    details: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    error: p.text().nullable(),
  },
  indexes: [{ name: 'maintenance_runs_job_started_index', properties: ['job', 'startedAt'] }],
  checks: [
    check('maintenance_runs', 'rows_affected_non_negative', 'rows_affected >= 0'),
    check('maintenance_runs', 'finished_when_done', "(outcome = 'running') = (finished_at is null)"),
    check('maintenance_runs', 'finished_after_start', 'finished_at is null or finished_at >= started_at'),
  ],
});
export type MaintenanceRun = InferEntity<typeof MaintenanceRunSchema>;

/** A point-in-time snapshot of database and product figures, written by the stats job. */
export const StatsSnapshotSchema = defineEntity({
  name: 'StatsSnapshot',
  tableName: 'stats_snapshots',
  properties: {
    id: uuidPrimaryKey(),
    takenAt: p
      .datetime()
      .onCreate(() => new Date())
      .defaultRaw('now()'),
    database: p.json<Record<string, unknown>>(),
    product: p.json<Record<string, unknown>>(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  indexes: [{ name: 'stats_snapshots_taken_at_index', properties: ['takenAt'] }],
  triggers: [touchUpdatedAt()],
});
export type StatsSnapshot = InferEntity<typeof StatsSnapshotSchema>;
