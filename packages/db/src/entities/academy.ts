import { defineEntity, p, type InferEntity, type Opt } from '@mikro-orm/core';
import { check, createdAt, touchUpdatedAt, updatedAt, uuidPrimaryKey } from './columns.ts';
import { ChatSessionSchema } from './conversation.ts';
import { UserSchema } from './identity.ts';

/** A PostgreSQL transaction id (64-bit, never wraps), read as its decimal text. */
const xid8 = () => p.string().columnType('xid8');

/**
 * A learner's profile. Its totals are a projection of the XP ledger below: the xp-rollup job
 * folds new ledger rows into it, and a from-scratch recomputation must give the same numbers.
 */
export const AcademyUserSchema = defineEntity({
  name: 'AcademyUser',
  tableName: 'academy_users',
  properties: {
    user: () => p.oneToOne(UserSchema).primary().deleteRule('cascade'),
    level: p.integer().default(1),
    totalXp: p.bigint('number').default(0),
    // What the ledger paid and what corrections took back, apart: each only grows, so the rollup can
    // add a batch to them without knowing the order rows arrive in, and a correction never takes
    // back a badge earned on the way (badges are measured by earned XP).
    earnedXp: p.bigint('number').default(0),
    correctedXp: p.bigint('number').default(0),
    currentStreak: p.integer().default(0),
    longestStreak: p.integer().default(0),
    lastActiveDay: p.date().nullable(),
    // What the leaderboard shows; null shows no name. Set by the learner (academy.updateProfile).
    displayName: p.string().length(80).nullable(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  // The all-time leaderboard in (total_xp, user_id) order, both directions: top N pages and a
  // learner's rank (the learners ahead of them) are ranges of this index.
  indexes: [{ name: 'academy_users_total_xp_user_id_index', properties: ['totalXp', 'user'] }],
  checks: [
    check('academy_users', 'level_positive', 'level >= 1'),
    check('academy_users', 'total_xp_non_negative', 'total_xp >= 0'),
    check('academy_users', 'xp_parts_non_negative', 'earned_xp >= 0 and corrected_xp >= 0'),
    check('academy_users', 'streaks_non_negative', 'current_streak >= 0 and longest_streak >= current_streak'),
  ],
  triggers: [touchUpdatedAt()],
});
export type AcademyUser = InferEntity<typeof AcademyUserSchema>;

/** A learning conversation: a chat session seen through the academy, about one topic. */
export const AcademyConversationSchema = defineEntity({
  name: 'AcademyConversation',
  tableName: 'academy_conversations',
  properties: {
    id: uuidPrimaryKey(),
    user: () => p.manyToOne(UserSchema).deleteRule('cascade').index('academy_conversations_user_id_index'),
    session: () =>
      p.oneToOne(ChatSessionSchema).deleteRule('cascade').unique('academy_conversations_session_id_unique'),
    topic: p.string().length(255),
    // The agent persona the learner talks to, and the mission the conversation works on.
    persona: p.string().length(128).nullable(),
    mission: () =>
      p
        .manyToOne(AcademyMissionSchema)
        .nullable()
        .deleteRule('restrict')
        .index('academy_conversations_mission_id_index'),
    // Set once, by academy.completeConversation, which pays its XP.
    completedAt: p.datetime().nullable(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  triggers: [touchUpdatedAt()],
});
export type AcademyConversation = InferEntity<typeof AcademyConversationSchema>;

/**
 * The append-only XP ledger. `source_ref` names the event that paid (a message id, a mission
 * completion, …); it is unique per user, so replaying an event can never pay twice.
 * The bigint identity gives the rollup a cheap, ordered watermark.
 */
export const AcademyXpTransactionSchema = defineEntity({
  name: 'AcademyXpTransaction',
  tableName: 'academy_xp_transactions',
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    user: () => p.manyToOne(UserSchema).deleteRule('cascade'),
    amount: p.integer(),
    reason: p.string().length(255),
    sourceRef: p.string().length(255),
    metadata: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    createdAt: createdAt(),
    // The inserting transaction. Rows become visible in commit order, not in id order, so the
    // xp-rollup folds a row only once every transaction older than its own has ended.
    txId: xid8().$type<Opt<string>>().defaultRaw('pg_current_xact_id()').lazy().hidden(),
    // Set only on the mission rewards an incremental xp-rollup batch pays: that batch adds them to
    // the totals in the same transaction, so later batches skip them (a rebuild counts them).
    foldedOnInsert: p.boolean().default(false).lazy().hidden(),
  },
  uniques: [{ name: 'academy_xp_transactions_user_source_ref_unique', properties: ['user', 'sourceRef'] }],
  indexes: [{ name: 'academy_xp_transactions_tx_id_id_index', properties: ['txId', 'id'] }],
  checks: [
    check('academy_xp_transactions', 'amount_non_zero', 'amount <> 0'),
    check('academy_xp_transactions', 'source_ref_not_blank', 'length(source_ref) > 0'),
  ],
  triggers: [
    {
      // Ledger rows are facts; a correction is a new row with a negative amount. (Deletes stay
      // possible so that deleting a user can cascade to their ledger.)
      name: 'append_only',
      timing: 'before',
      events: ['update'],
      forEach: 'row',
      body: "raise exception 'academy_xp_transactions is append-only' using errcode = 'integrity_constraint_violation';",
    },
  ],
});
export type AcademyXpTransaction = InferEntity<typeof AcademyXpTransactionSchema>;

/**
 * How far the xp-rollup job has folded the ledger; one row. Every ledger row at or before
 * (folded_tx_id, folded_id) in (tx_id, id) order is in the learners' totals, and the mark moves in
 * the same transaction as the totals. While a from-scratch rebuild is under way, `rebuild_horizon`
 * is the transaction horizon it folds below and `rebuild_after_user` the last learner it has done.
 */
export const AcademyXpRollupStateSchema = defineEntity({
  name: 'AcademyXpRollupState',
  tableName: 'academy_xp_rollup_state',
  properties: {
    id: p.smallint().primary().autoincrement(false),
    foldedTxId: xid8().defaultRaw(`'0'`),
    foldedId: p.bigint('number').default(0),
    rebuildHorizon: xid8().nullable(),
    rebuildAfterUser: p.uuid().nullable(),
    // Missions that ended up to here have had their unfinished learner rows marked expired.
    missionsExpiredUntil: p.datetime().nullable(),
    updatedAt: updatedAt(),
  },
  checks: [check('academy_xp_rollup_state', 'single_row', 'id = 1')],
  triggers: [touchUpdatedAt()],
});
export type AcademyXpRollupState = InferEntity<typeof AcademyXpRollupStateSchema>;

export const MISSION_STATUSES = ['in_progress', 'completed', 'expired'] as const;
export type MissionStatus = (typeof MISSION_STATUSES)[number];

/** A mission learners can complete for XP. `criteria` is interpreted by the xp-rollup job. */
export const AcademyMissionSchema = defineEntity({
  name: 'AcademyMission',
  tableName: 'academy_missions',
  properties: {
    id: uuidPrimaryKey(),
    code: p.string().length(128).unique('academy_missions_code_unique'),
    title: p.string().length(255),
    description: p.text().nullable(),
    xpReward: p.integer(),
    criteria: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    startsAt: p.datetime().nullable(),
    endsAt: p.datetime().nullable(),
    // Retired missions are offered no more and gain no progress; what learners earned stays.
    retiredAt: p.datetime().nullable(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  checks: [
    check('academy_missions', 'xp_reward_non_negative', 'xp_reward >= 0'),
    check('academy_missions', 'window_ordered', 'ends_at is null or starts_at is null or ends_at > starts_at'),
  ],
  triggers: [touchUpdatedAt()],
});
export type AcademyMission = InferEntity<typeof AcademyMissionSchema>;

export const AcademyUserMissionSchema = defineEntity({
  name: 'AcademyUserMission',
  tableName: 'academy_user_missions',
  properties: {
    id: uuidPrimaryKey(),
    user: () => p.manyToOne(UserSchema).deleteRule('cascade'),
    mission: () =>
      p.manyToOne(AcademyMissionSchema).deleteRule('cascade').index('academy_user_missions_mission_id_index'),
    progress: p.integer().default(0),
    status: p.enum(MISSION_STATUSES).default('in_progress'),
    completedAt: p.datetime().nullable(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  uniques: [{ name: 'academy_user_missions_user_mission_unique', properties: ['user', 'mission'] }],
  indexes: [
    // The xp-rollup asks of each learner in a batch whether a mission is completed and how many
    // are (the missions badge): answered from this small index without visiting the heap rows of
    // the missions in progress.
    {
      name: 'academy_user_missions_completed_index',
      expression: `create index "academy_user_missions_completed_index" on "academy_user_missions" ("user_id", "mission_id") where "status" = 'completed'`,
    },
  ],
  checks: [
    check('academy_user_missions', 'progress_non_negative', 'progress >= 0'),
    check('academy_user_missions', 'completed_when_done', "(status = 'completed') = (completed_at is not null)"),
  ],
  triggers: [touchUpdatedAt()],
});
export type AcademyUserMission = InferEntity<typeof AcademyUserMissionSchema>;

/** A badge definition. */
export const AcademyBadgeSchema = defineEntity({
  name: 'AcademyBadge',
  tableName: 'academy_badges',
  properties: {
    id: uuidPrimaryKey(),
    code: p.string().length(128).unique('academy_badges_code_unique'),
    name: p.string().length(255),
    description: p.text().nullable(),
    iconUrl: p.string().length(2048).nullable(),
    criteria: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    // Retired badges are awarded no more; learners keep the ones they have.
    retiredAt: p.datetime().nullable(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  triggers: [touchUpdatedAt()],
});
export type AcademyBadge = InferEntity<typeof AcademyBadgeSchema>;

/** A badge awarded to a learner: once per badge per learner. */
export const AcademyUserBadgeSchema = defineEntity({
  name: 'AcademyUserBadge',
  tableName: 'academy_user_badges',
  properties: {
    id: uuidPrimaryKey(),
    user: () => p.manyToOne(UserSchema).deleteRule('cascade'),
    badge: () => p.manyToOne(AcademyBadgeSchema).deleteRule('cascade').index('academy_user_badges_badge_id_index'),
    awardedAt: p
      .datetime()
      .onCreate(() => new Date())
      .defaultRaw('now()'),
  },
  uniques: [{ name: 'academy_user_badges_user_badge_unique', properties: ['user', 'badge'] }],
});
export type AcademyUserBadge = InferEntity<typeof AcademyUserBadgeSchema>;

/**
 * XP per learner per UTC week (weeks start on Monday): the net of the ledger rows created in the
 * week, folded by the xp-rollup in the same transaction as the totals (so exactly once). The
 * weekly leaderboard and rank are ranges of the (week, xp, user_id) index.
 */
export const AcademyWeeklyXpSchema = defineEntity({
  name: 'AcademyWeeklyXp',
  tableName: 'academy_weekly_xp',
  properties: {
    week: p.date().primary(),
    user: () => p.manyToOne(UserSchema).primary().deleteRule('cascade'),
    xp: p.bigint('number').default(0),
  },
  indexes: [{ name: 'academy_weekly_xp_week_xp_user_id_index', properties: ['week', 'xp', 'user'] }],
});
export type AcademyWeeklyXp = InferEntity<typeof AcademyWeeklyXpSchema>;
