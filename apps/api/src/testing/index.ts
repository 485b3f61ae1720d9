export * from './caller.ts';
export * from './server-config.ts';
