export * from './profile.ts';
export * from './award.ts';
export * from './catalog.ts';
export * from './conversations.ts';
export * from './leaderboard.ts';
// The statements themselves, for the benchmark's bare-pg baseline (the same SQL without the stack).
export {
  awardStatement,
  boardNeighboursStatement,
  boardPageStatement,
  boardRowStatement,
  ranksStatement,
  type BoardRow,
} from './sql.ts';
