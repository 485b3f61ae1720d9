export * from './settings.ts';
export * from './memories.ts';
export * from './responders.ts';
export * from './context.ts';
export * from './loop.ts';
export { reapDeadTurns, type Holder } from './sql.ts';
export * from './watch.ts';
