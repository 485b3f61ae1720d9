export * from './caller.ts';
export * from './server-config.ts';
export * from './fake-model.ts';
