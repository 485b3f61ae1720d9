export { forkSession } from './fork.ts';
export { FORK_COPIED_COLUMNS, forkSettings, forkStatement } from './sql.ts';
