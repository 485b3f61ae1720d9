export * from './errors.ts';
export * from './principal.ts';
export * from './audit.ts';
export * from './sessions/access.ts';
export * from './maintenance/runs.ts';
export * from './paging.ts';
