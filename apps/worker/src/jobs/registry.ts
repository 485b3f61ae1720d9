import type { JobContract } from './contract.ts';

/**
 * The jobs this worker runs, listed explicitly (no discovery). Retention, vacuum, stats, XP
 * rollups and the reaper are added here as they are written. Code that registers jobs takes
 * the list as a parameter, so tests run their own.
 */
export const jobs: JobContract[] = [];
