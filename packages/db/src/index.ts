export { MikroORM, EntityManager, type Options as OrmOptions } from '@mikro-orm/postgresql';
export * from './connection.ts';
export * from './config.ts';
export * from './orm.ts';
export * from './entities/index.ts';
export { uuidv7 } from './ids.ts';
export * from './embedded-postgres.ts';
export {
  DriverException,
  OptimisticLockError,
  UniqueConstraintViolationException,
  ForeignKeyConstraintViolationException,
  CheckConstraintViolationException,
} from '@mikro-orm/postgresql';
