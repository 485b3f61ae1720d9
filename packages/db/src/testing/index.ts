export * from './databases.ts';
export * from './postgres-server.ts';
export * from './vitest.ts';
export * from './migrations.ts';
