import type { TAcademyProfile, TLearnerMission } from '@threadstore/client';

/** How far the learner is from the start of their level to the next, between 0 and 1. */
export function levelProgress({ totalXp, levelXp, nextLevelXp }: TAcademyProfile): number {
  const span = nextLevelXp - levelXp;
  return span <= 0 ? 1 : Math.min(1, Math.max(0, (totalXp - levelXp) / span));
}

/** The count a mission's progress runs up to, or null when the server cannot read its criteria. */
export function missionTarget({ mission }: TLearnerMission): number | null {
  return mission.criteria?.target ?? null;
}
