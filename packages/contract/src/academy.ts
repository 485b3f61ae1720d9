import * as z from 'zod';
import { ZCursor, ZId, ZJsonObject, ZPage, ZTimestamp } from './common.ts';
import { ZSession } from './sessions.ts';

/** A UTC calendar day, `YYYY-MM-DD`. */
const ZDay = z.iso.date();
const ZXp = z.number().int();

/** A learner's profile: totals, level and streaks as the xp-rollup last folded them. */
export const ZAcademyProfile = z.object({
  displayName: z.string().nullable(),
  level: z.number().int().positive(),
  totalXp: ZXp.nonnegative(),
  earnedXp: ZXp.nonnegative(),
  correctedXp: ZXp.nonnegative(),
  /** Total XP at which the current level was reached (0 at level 1), for a progress bar. */
  levelXp: ZXp.nonnegative(),
  /** Total XP at which the next level is reached. */
  nextLevelXp: ZXp.positive(),
  currentStreak: z.number().int().nonnegative(),
  longestStreak: z.number().int().nonnegative(),
  lastActiveDay: ZDay.nullable(),
  createdAt: ZTimestamp,
});
export type TAcademyProfile = z.infer<typeof ZAcademyProfile>;

/** Only what a learner may say about themselves: never XP, level or streaks. */
export const ZUpdateAcademyProfileInput = z.strictObject({
  /** Shown on the leaderboard; null shows no name. */
  displayName: z.string().trim().min(1).max(80).nullable(),
});
export type TUpdateAcademyProfileInput = z.infer<typeof ZUpdateAcademyProfileInput>;

/**
 * The ledger reasons the server's own rules write; an award from a backend may not use them, so
 * a mission counting `academy_conversation` rows counts only conversations the server saw complete.
 */
export const RESERVED_XP_REASONS = ['mission_reward', 'academy_conversation'] as const;

/** An award from a trusted backend (an API key with the `academy.award` scope). */
export const ZAwardXpInput = z.strictObject({
  /** The learner: a user id. */
  userId: ZId,
  /** Negative amounts are corrections: they lower the total but never take back a badge. */
  amount: z
    .number()
    .int()
    .min(-1_000_000)
    .max(1_000_000)
    .refine((amount) => amount !== 0, 'an award of 0 XP is not an award'),
  /** What the XP is for; missions can count rows by reason. */
  reason: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'lowercase letters, digits, _ . - (at most 64)')
    .refine((reason) => !(RESERVED_XP_REASONS as readonly string[]).includes(reason), 'reserved for the server'),
  /** The event that earned it. Awarding the same event to the same learner again pays nothing. */
  sourceEventId: z.string().min(1).max(200),
  metadata: ZJsonObject.optional(),
});
export type TAwardXpInput = z.infer<typeof ZAwardXpInput>;

export const ZAwardXpOutput = z.object({
  /** The ledger row's id. */
  transactionId: z.string().regex(/^\d+$/),
  /** False when this event had been awarded already: nothing was paid this time. */
  awarded: z.boolean(),
  amount: ZXp,
  reason: z.string(),
  sourceEventId: z.string(),
  createdAt: ZTimestamp,
});
export type TAwardXpOutput = z.infer<typeof ZAwardXpOutput>;

/** `events` counts a learner's activity rows (of `reason`, when given), `xp` adds up their XP. */
export const ZMissionCriteria = z.strictObject({
  measure: z.enum(['events', 'xp']),
  target: z.number().int().positive().max(2_000_000_000),
  reason: z.string().min(1).max(255).optional(),
});
export type TMissionCriteria = z.infer<typeof ZMissionCriteria>;

/** `xp`: XP earned; `streak`: longest run of active days; `missions`: missions completed. */
export const ZBadgeCriteria = z.strictObject({
  measure: z.enum(['xp', 'streak', 'missions']),
  threshold: z.number().int().positive().max(2_000_000_000),
});
export type TBadgeCriteria = z.infer<typeof ZBadgeCriteria>;

const ZCode = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,127}$/, 'lowercase letters, digits, _ - (at most 128)');

export const ZMission = z.object({
  id: ZId,
  code: z.string(),
  title: z.string(),
  description: z.string().nullable(),
  xpReward: ZXp.nonnegative(),
  /** Null for a mission whose stored criteria the server cannot read (it counts nothing). */
  criteria: ZMissionCriteria.nullable(),
  startsAt: ZTimestamp.nullable(),
  endsAt: ZTimestamp.nullable(),
  retiredAt: ZTimestamp.nullable(),
  createdAt: ZTimestamp,
  updatedAt: ZTimestamp,
});
export type TMission = z.infer<typeof ZMission>;

/** A mission with the caller's progress on it. */
export const ZLearnerMission = z.object({
  mission: ZMission,
  progress: z.number().int().nonnegative(),
  status: z.enum(['not_started', 'in_progress', 'completed', 'expired']),
  completedAt: ZTimestamp.nullable(),
});
export type TLearnerMission = z.infer<typeof ZLearnerMission>;

export const ZLearnerMissions = z.object({ items: z.array(ZLearnerMission) });
export type TLearnerMissions = z.infer<typeof ZLearnerMissions>;

export const ZBadge = z.object({
  id: ZId,
  code: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  iconUrl: z.string().nullable(),
  criteria: ZBadgeCriteria.nullable(),
  retiredAt: ZTimestamp.nullable(),
  createdAt: ZTimestamp,
  updatedAt: ZTimestamp,
});
export type TBadge = z.infer<typeof ZBadge>;

export const ZEarnedBadges = z.object({ items: z.array(z.object({ badge: ZBadge, awardedAt: ZTimestamp })) });
export type TEarnedBadges = z.infer<typeof ZEarnedBadges>;

const ZWindow = {
  startsAt: ZTimestamp.nullable().optional(),
  endsAt: ZTimestamp.nullable().optional(),
};

export const ZCreateMissionInput = z.strictObject({
  code: ZCode,
  title: z.string().trim().min(1).max(255),
  description: z.string().max(10_000).nullable().optional(),
  xpReward: z.number().int().min(0).max(1_000_000),
  criteria: ZMissionCriteria,
  ...ZWindow,
});
export type TCreateMissionInput = z.infer<typeof ZCreateMissionInput>;

/**
 * Fields left out stay as they are. Changing criteria or the window changes what past ledger rows
 * count for: run the xp-rollup job with `{"mode":"rebuild"}` afterwards. Completions and badges
 * already earned are never taken back.
 */
export const ZUpdateMissionInput = z.strictObject({
  id: ZId,
  title: z.string().trim().min(1).max(255).optional(),
  description: z.string().max(10_000).nullable().optional(),
  xpReward: z.number().int().min(0).max(1_000_000).optional(),
  criteria: ZMissionCriteria.optional(),
  ...ZWindow,
});
export type TUpdateMissionInput = z.infer<typeof ZUpdateMissionInput>;

export const ZCreateBadgeInput = z.strictObject({
  code: ZCode,
  name: z.string().trim().min(1).max(255),
  description: z.string().max(10_000).nullable().optional(),
  iconUrl: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .nullable()
    .optional(),
  criteria: ZBadgeCriteria,
});
export type TCreateBadgeInput = z.infer<typeof ZCreateBadgeInput>;

export const ZUpdateBadgeInput = z.strictObject({
  id: ZId,
  name: z.string().trim().min(1).max(255).optional(),
  description: z.string().max(10_000).nullable().optional(),
  iconUrl: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .nullable()
    .optional(),
  criteria: ZBadgeCriteria.optional(),
});
export type TUpdateBadgeInput = z.infer<typeof ZUpdateBadgeInput>;

/** Retiring is the only way out of the catalog: nothing a learner earned is ever deleted. */
export const ZRetireInput = z.strictObject({ id: ZId });
export type TRetireInput = z.infer<typeof ZRetireInput>;

export const ZStartAcademyConversationInput = z.strictObject({
  /** The agent persona the learner talks to (also the session's agentId). */
  persona: z.string().trim().min(1).max(128),
  /** The mission the conversation works on; must be in the catalog and not retired. */
  missionId: ZId.optional(),
  topic: z.string().trim().min(1).max(255),
});
export type TStartAcademyConversationInput = z.infer<typeof ZStartAcademyConversationInput>;

export const ZAcademyConversation = z.object({
  id: ZId,
  persona: z.string().nullable(),
  missionId: ZId.nullable(),
  topic: z.string(),
  completedAt: ZTimestamp.nullable(),
  createdAt: ZTimestamp,
  /** The ordinary chat session: append and read its messages with messages.*, run it with sessions.*. */
  session: ZSession,
});
export type TAcademyConversation = z.infer<typeof ZAcademyConversation>;

export const ZListAcademyConversationsInput = z
  .strictObject({ limit: z.number().int().min(1).optional(), cursor: ZCursor.optional() })
  .optional();
export type TListAcademyConversationsInput = z.infer<typeof ZListAcademyConversationsInput>;

export const ZAcademyConversationPage = ZPage(ZAcademyConversation);
export type TAcademyConversationPage = z.infer<typeof ZAcademyConversationPage>;

export const ZCompleteAcademyConversationInput = z.strictObject({ id: ZId });
export type TCompleteAcademyConversationInput = z.infer<typeof ZCompleteAcademyConversationInput>;

export const ZCompleteAcademyConversationOutput = z.object({
  conversation: ZAcademyConversation,
  /** XP this call paid: the rule's amount the first time, 0 after. Visible after the next rollup. */
  xpAwarded: ZXp.nonnegative(),
});
export type TCompleteAcademyConversationOutput = z.infer<typeof ZCompleteAcademyConversationOutput>;

/** `allTime` ranks by total XP; `week` by the net XP of the current UTC week (from Monday). */
export const ZLeaderboardPeriod = z.enum(['allTime', 'week']);
export type TLeaderboardPeriod = z.infer<typeof ZLeaderboardPeriod>;

export const ZLeaderboardEntry = z.object({
  /** 1-based position; ties in XP are ordered the same way every time (by learner). */
  rank: z.number().int().positive(),
  displayName: z.string().nullable(),
  level: z.number().int().positive(),
  xp: ZXp,
  isYou: z.boolean(),
});
export type TLeaderboardEntry = z.infer<typeof ZLeaderboardEntry>;

export const ZLeaderboardInput = z.strictObject({
  period: ZLeaderboardPeriod.default('allTime'),
  limit: z.number().int().min(1).optional(),
  cursor: ZCursor.optional(),
});
export type TLeaderboardInput = z.infer<typeof ZLeaderboardInput>;

export const ZLeaderboardPage = z.object({
  period: ZLeaderboardPeriod,
  /** The week ranked (its Monday), for `week`. */
  week: ZDay.nullable(),
  items: z.array(ZLeaderboardEntry),
  nextCursor: ZCursor.nullable(),
});
export type TLeaderboardPage = z.infer<typeof ZLeaderboardPage>;

export const ZRankInput = z.strictObject({
  period: ZLeaderboardPeriod.default('allTime'),
  /** How many learners to show on each side of the caller. */
  neighbours: z.number().int().min(0).max(10).default(2),
});
export type TRankInput = z.infer<typeof ZRankInput>;

export const ZRankOutput = z.object({
  period: ZLeaderboardPeriod,
  week: ZDay.nullable(),
  /** Null when the caller is not on this board (no XP this week, or no profile yet). */
  you: ZLeaderboardEntry.nullable(),
  /** Up to `neighbours` learners just ahead of the caller, then the caller, then those just behind. */
  around: z.array(ZLeaderboardEntry),
});
export type TRankOutput = z.infer<typeof ZRankOutput>;
