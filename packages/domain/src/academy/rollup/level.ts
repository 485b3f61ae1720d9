/**
 * The level curve: reaching level n takes 50·n·(n−1) XP in total, so level 2 needs 100 XP and
 * each level after it 100 XP more than the one before (100, 200, 300, …): 0, 100, 300, 600, 1000…
 * Negative totals (more corrected than earned) sit at level 1.
 */
export function xpForLevel(level: number): number {
  return 50 * level * (level - 1);
}

/**
 * The highest level whose threshold `totalXp` reaches: the inverse of {@link xpForLevel},
 * floor((5 + √(25 + 2·xp)) / 10). Written over 25 + 2·xp so the square root is of an integer, which
 * floating point takes exactly at every threshold (where it is the square (10n − 5)²); a form with
 * 0.08·xp would land a hair under some thresholds and floor to the level below.
 */
export function levelForXp(totalXp: number): number {
  const xp = Math.max(0, Math.trunc(totalXp));
  return Math.max(1, Math.floor((5 + Math.sqrt(25 + 2 * xp)) / 10));
}

/** {@link levelForXp} as a SQL expression over `xp` (a bigint expression), for set-based updates. */
export function levelSql(xp: string): string {
  return `greatest(1, floor((5 + sqrt(25 + 2 * greatest(${xp}, 0)::float8)) / 10))::int`;
}
