import type { TAcademyProfile } from '@threadstore/client';
import { describe, expect, it } from 'vitest';
import { levelProgress } from './progress.ts';

const profile = (totalXp: number, levelXp: number, nextLevelXp: number) =>
  ({ totalXp, levelXp, nextLevelXp }) as TAcademyProfile;

describe('levelProgress', () => {
  it('measures from the start of the current level, not from zero', () => {
    // Level 3 spans 300–600 XP: 396 is 32% of the way.
    expect(levelProgress(profile(396, 300, 600))).toBeCloseTo(0.32);
    expect(levelProgress(profile(0, 0, 100))).toBe(0);
  });

  it('stays between 0 and 1 when the totals and the level disagree (a rollup pending)', () => {
    expect(levelProgress(profile(700, 300, 600))).toBe(1);
    expect(levelProgress(profile(100, 300, 600))).toBe(0);
  });
});
