export * from './databases.ts';
export * from './postgres-server.ts';
export { setup } from './global-setup.ts';
