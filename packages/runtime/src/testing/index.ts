export * from './json-lines.ts';
export * from './service-process.ts';
export * from './within.ts';
export * from './config-error.ts';
