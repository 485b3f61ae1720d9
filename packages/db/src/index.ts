export { MikroORM, EntityManager, type Options as OrmOptions } from '@mikro-orm/postgresql';
export * from './connection.ts';
export * from './config.ts';
export * from './orm.ts';
export * from './entities/index.ts';
export { uuidv7 } from './ids.ts';
export { FTS_SOURCE_CHARS } from './entities/columns.ts';
// Row locks and atomic SQL updates (`total_cost = total_cost + ?`) for the domain package.
export { LockMode, raw } from '@mikro-orm/postgresql';
export * from './embedded-postgres.ts';
export {
  DriverException,
  OptimisticLockError,
  UniqueConstraintViolationException,
  ForeignKeyConstraintViolationException,
  CheckConstraintViolationException,
} from '@mikro-orm/postgresql';
export * from './roles.ts';
export { loadDotEnvFile } from './env-file.ts';
export * from './backup.ts';
