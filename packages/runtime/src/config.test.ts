import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { envBoolean, loadConfig, logEnvSchema } from './config.ts';
import { serviceDatabaseEnvSchema } from './database.ts';
import { configErrorOf } from './testing/config-error.ts';

const schema = serviceDatabaseEnvSchema.extend(logEnvSchema.shape).extend({
  API_PORT: z.coerce.number().int().min(1).max(65_535).default(3000),
  FLAG: envBoolean.default(false),
});

const errorOf = (env: NodeJS.ProcessEnv) => configErrorOf(schema, env);

describe('loadConfig', () => {
  it('applies defaults to a minimal valid environment', () => {
    const config = loadConfig(schema, { DATABASE_URL: 'postgres://u:p@db:5432/app' });
    expect(config).toMatchObject({
      API_PORT: 3000,
      FLAG: false,
      LOG_LEVEL: 'info',
      DATABASE_POOL_MAX: 10,
      MIGRATE_ON_START: false,
    });
  });

  it('names a missing DATABASE_URL and says how to run without one', () => {
    const message = errorOf({});
    expect(message).toMatch(/DATABASE_URL: is required/);
    expect(message).toMatch(/not set/);
    expect(message).toMatch(/embedded PostgreSQL/);
  });

  it('names every malformed variable with the value it got, hiding passwords', () => {
    const message = errorOf({
      DATABASE_URL: 'mysql://root:hunter2@db/app',
      API_PORT: '70000',
      LOG_LEVEL: 'loud',
      FLAG: 'maybe',
    });
    expect(message).toMatch(
      /DATABASE_URL: must start with postgres:\/\/ or postgresql:\/\/ \(got "mysql:\/\/root:\*\*\*@db\/app"\)/,
    );
    expect(message).not.toMatch(/hunter2/);
    expect(message).toMatch(/API_PORT: .*65535.* \(got "70000"\)/);
    expect(message).toMatch(/LOG_LEVEL: .* \(got "loud"\)/);
    expect(message).toMatch(/FLAG: must be true or false \(got "maybe"\)/);
  });

  it('reads "false" as false, unlike z.coerce.boolean()', () => {
    expect(loadConfig(schema, { DATABASE_URL: 'postgresql://h/db', FLAG: 'false' }).FLAG).toBe(false);
    expect(loadConfig(schema, { DATABASE_URL: 'postgresql://h/db', FLAG: 'yes' }).FLAG).toBe(true);
  });
});
