export * from './profile.ts';
export * from './award.ts';
export * from './catalog.ts';
export * from './conversations.ts';
export * from './leaderboard.ts';
