import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import { levelForXp, levelSql, xpForLevel } from './level.ts';

describe('the level curve', () => {
  it('needs 100 XP for level 2 and 100 XP more for each level after it', () => {
    expect([1, 2, 3, 4, 5, 10].map(xpForLevel)).toEqual([0, 100, 300, 600, 1000, 4500]);
    expect([0, 99, 100, 299, 300, 599, 600, 4499, 4500].map(levelForXp)).toEqual([1, 1, 2, 2, 3, 3, 4, 9, 10]);
  });

  it('reaches each level exactly at its threshold and not one XP before, up to level 100,000', () => {
    const misses: number[] = [];
    for (let level = 2; level <= 100_000; level++) {
      const threshold = xpForLevel(level);
      if (levelForXp(threshold) !== level || levelForXp(threshold - 1) !== level - 1) misses.push(level);
    }
    expect(misses).toEqual([]);
  });

  it('keeps a learner with more XP corrected than earned at level 1', () => {
    expect(levelForXp(-250)).toBe(1);
  });

  describe('in SQL', () => {
    const testDb = useTestDatabase();

    it('gives the same level as the TypeScript curve, thresholds and their neighbours included', async () => {
      const xps = [-5, 0, 1, 99, 100, 101, 299, 300];
      for (const level of [7, 50, 999, 12_345, 99_999]) xps.push(xpForLevel(level) - 1, xpForLevel(level));
      const rows = await testDb.orm.em
        .fork()
        .execute<{ level: number }[]>(
          `select ${levelSql('xp')} as level from unnest(array[${xps.join(',')}]::bigint[]) with ordinality as x(xp, n) order by n`,
        );

      expect(rows.map((row) => row.level)).toEqual(xps.map(levelForXp));
    });
  });
});
