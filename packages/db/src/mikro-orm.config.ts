// Configuration for the MikroORM CLI (`pnpm --filter @threadstore/db migration:create`).
import { connectionSettingsFromUrl } from './connection.ts';
import { makeOrmConfig } from './config.ts';

export default makeOrmConfig(
  connectionSettingsFromUrl(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/threadstore_dev'),
);
