export { forkSession } from './fork.ts';
export { FORK_COPIED_COLUMNS, forkStatement } from './sql.ts';
