export * from './config.ts';
export * from './database.ts';
export * from './logger.ts';
export * from './shutdown.ts';
export * from './service.ts';
export * from './queue.ts';
