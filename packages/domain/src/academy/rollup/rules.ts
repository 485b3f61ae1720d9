import { AcademyBadgeSchema, AcademyMissionSchema, type EntityManager } from '@threadstore/db';
import { ZBadgeCriteria, ZMissionCriteria, type TBadgeCriteria, type TMissionCriteria } from '../catalog.ts';

/**
 * The `reason` of the ledger rows the rollup writes itself when a mission completes. They count
 * towards a learner's XP and level, but not towards missions or streaks: a reward is not activity,
 * and one mission's reward counting towards another would chain completions.
 */
export const MISSION_REWARD_REASON = 'mission_reward';

/**
 * `academy_missions.criteria` and `academy_badges.criteria`, as the API's contract defines them
 * (academy.admin.* validates with the same schemas). Missions: the ledger rows that count are the
 * learner's positive, non-reward rows created inside the mission's window (and of `reason`, when
 * given); `events` counts them, `xp` adds up their amounts; the mission completes once that
 * reaches `target`. Badges: `xp` is the XP a learner has earned (corrections do not take it back),
 * `streak` their longest run of consecutive days with XP, `missions` the missions they completed.
 * Every measure only grows as rows arrive, so folding rows in any order, in any batches, ends at
 * the same state a from-scratch count gives, and a badge once awarded is one a recomputation
 * awards too.
 */
export const missionCriteriaSchema = ZMissionCriteria;
export type MissionCriteria = TMissionCriteria;
export const badgeCriteriaSchema = ZBadgeCriteria;
export type BadgeCriteria = TBadgeCriteria;

export interface MissionRule extends MissionCriteria {
  id: string;
  startsAt: string | null;
  endsAt: string | null;
}

export interface BadgeRule extends BadgeCriteria {
  id: string;
}

export interface Rules {
  missions: MissionRule[];
  badges: BadgeRule[];
  /** Codes of missions and badges whose criteria the rollup cannot read; they are left alone. */
  skipped: { missions: string[]; badges: string[] };
}

/**
 * Reads the mission and badge definitions once per batch (they are small), validating each one's
 * criteria. A definition with unreadable criteria is skipped and reported rather than failing the
 * whole rollup: one bad row an admin wrote must not stop every learner's XP.
 *
 * Changing a live mission's window, reason or measure changes what its past rows count for;
 * incremental folding cannot see that, so run the job with `{"mode":"rebuild"}` afterwards.
 */
export async function loadRules(em: EntityManager): Promise<Rules> {
  // Retired missions gain no progress and retired badges are awarded no more; what learners
  // already have of them stays (a rebuild leaves their rows alone too).
  const missions = await em.find(AcademyMissionSchema, { retiredAt: null }, { orderBy: { code: 'asc' } });
  const badges = await em.find(AcademyBadgeSchema, { retiredAt: null }, { orderBy: { code: 'asc' } });
  const rules: Rules = { missions: [], badges: [], skipped: { missions: [], badges: [] } };
  for (const mission of missions) {
    const criteria = missionCriteriaSchema.safeParse(mission.criteria);
    if (!criteria.success) {
      rules.skipped.missions.push(mission.code);
      continue;
    }
    rules.missions.push({
      id: mission.id,
      ...criteria.data,
      startsAt: mission.startsAt?.toISOString() ?? null,
      endsAt: mission.endsAt?.toISOString() ?? null,
    });
  }
  for (const badge of badges) {
    const criteria = badgeCriteriaSchema.safeParse(badge.criteria);
    if (criteria.success) rules.badges.push({ id: badge.id, ...criteria.data });
    else rules.skipped.badges.push(badge.code);
  }
  return rules;
}
