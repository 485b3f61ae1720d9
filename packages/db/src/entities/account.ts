import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { check, createdAt, uuidPrimaryKey } from './columns.ts';

export const ERASURE_STATUSES = ['running', 'completed'] as const;
export type ErasureStatus = (typeof ERASURE_STATUSES)[number];

/**
 * An account erasure: its work list while it runs, its receipt once done.
 *
 * While `running` it names whom it erases (`user_id`, the anonymous ids they claimed, their API
 * key ids), so a killed erase can be finished by the next attempt or by the worker's
 * `account-erasure` job. The transaction that deletes the user row also clears those columns, so
 * the receipt left behind holds no personal data: when, how long, and how many rows per table.
 * Deliberately no foreign key to users: the receipt outlives the user.
 */
export const AccountErasureSchema = defineEntity({
  name: 'AccountErasure',
  tableName: 'account_erasures',
  properties: {
    id: uuidPrimaryKey(),
    userId: p.uuid().nullable(),
    anonymousIds: p.array().$type<string[]>().defaultRaw(`'{}'`),
    apiKeyIds: p.array().$type<string[]>().defaultRaw(`'{}'`),
    status: p.enum(ERASURE_STATUSES).default('running'),
    /** Rows deleted (or anonymized) so far, per table; committed with each batch. */
    counts: p.json<Record<string, number>>().defaultRaw(`'{}'`),
    batches: p.integer().default(0),
    /** Bumped by every batch; a running erasure whose heartbeat is old has lost its process. */
    heartbeatAt: p
      .datetime()
      .onCreate(() => new Date())
      .defaultRaw('now()'),
    startedAt: createdAt(),
    finishedAt: p.datetime().nullable(),
  },
  uniques: [
    {
      // One erasure at a time per user: a second attempt joins (resumes) the running one.
      name: 'account_erasures_running_user_unique',
      expression: `create unique index "account_erasures_running_user_unique" on "account_erasures" ("user_id") where "status" = 'running'`,
    },
  ],
  indexes: [
    {
      name: 'account_erasures_running_index',
      expression: `create index "account_erasures_running_index" on "account_erasures" ("heartbeat_at") where "status" = 'running'`,
    },
  ],
  checks: [
    check(
      'account_erasures',
      'receipt_anonymous',
      "status = 'running' or (user_id is null and anonymous_ids = '{}' and api_key_ids = '{}' and finished_at is not null)",
    ),
    check('account_erasures', 'running_has_subject', "status <> 'running' or user_id is not null"),
  ],
});
export type AccountErasure = InferEntity<typeof AccountErasureSchema>;
