import type { TAcademyProfile, TUpdateAcademyProfileInput } from '@threadstore/contract';
import { AcademyUserSchema, LockMode, type AcademyUser, type EntityManager } from '@threadstore/db';
import { recordAudit } from '../audit.ts';
import type { Actor } from '../principal.ts';
import { query } from '../messages/sql.ts';

/** The XP at which `level` is reached (the rollup's curve: 50·n·(n−1)). */
const xpForLevel = (level: number) => 50 * level * (level - 1);

/** The learner behind a principal: a user (directly or through their API key). */
export function learnerOf(actor: Actor): string {
  if (actor.principal.kind === 'anonymous') throw new Error('anonymous visitors are not learners');
  return actor.principal.userId;
}

/**
 * The learner's profile row, created on first use with nothing earned. Concurrent first calls
 * insert one row (ON CONFLICT DO NOTHING on the primary key); the rollup fills in the totals.
 */
export async function ensureLearner(em: EntityManager, userId: string): Promise<AcademyUser> {
  await query(em, `insert into academy_users (user_id) values ($1) on conflict (user_id) do nothing`, [userId]);
  return em.findOneOrFail(AcademyUserSchema, { user: userId }, { refresh: true });
}

export async function getAcademyProfile(em: EntityManager, actor: Actor): Promise<TAcademyProfile> {
  return toProfileDto(await ensureLearner(em, learnerOf(actor)));
}

/** Only the learner's own presentation: XP, levels and streaks are the rollup's alone. */
export async function updateAcademyProfile(
  em: EntityManager,
  actor: Actor,
  input: TUpdateAcademyProfileInput,
): Promise<TAcademyProfile> {
  const userId = learnerOf(actor);
  await ensureLearner(em, userId);
  return em.transactional(async (tx) => {
    const learner = await tx.findOneOrFail(
      AcademyUserSchema,
      { user: userId },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    );
    const before = learner.displayName ?? null;
    learner.displayName = input.displayName;
    recordAudit(tx, actor, {
      action: 'academy.updateProfile',
      subjectType: 'user',
      subjectId: userId,
      details: { displayName: { from: before, to: input.displayName } },
    });
    await tx.flush();
    return toProfileDto(learner);
  });
}

const day = (value: unknown): string | null =>
  value === null || value === undefined
    ? null
    : value instanceof Date
      ? value.toISOString().slice(0, 10)
      : String(value);

export function toProfileDto(learner: AcademyUser): TAcademyProfile {
  return {
    displayName: learner.displayName ?? null,
    level: learner.level,
    totalXp: Number(learner.totalXp),
    earnedXp: Number(learner.earnedXp),
    correctedXp: Number(learner.correctedXp),
    levelXp: xpForLevel(learner.level),
    nextLevelXp: xpForLevel(learner.level + 1),
    currentStreak: learner.currentStreak,
    longestStreak: learner.longestStreak,
    lastActiveDay: day(learner.lastActiveDay),
    createdAt: learner.createdAt.toISOString(),
  };
}
