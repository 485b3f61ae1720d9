export * from './fold.ts';
export * from './horizon.ts';
export * from './level.ts';
export * from './rules.ts';
