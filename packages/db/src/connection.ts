import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import * as z from 'zod';

/**
 * Connection settings, read from the environment by each app (validated once, at start).
 * Every variable is optional except where an app demands a DATABASE_URL.
 */
/** A libpq-style connection URL; both `postgres://` and `postgresql://` are accepted. */
export const databaseUrlSchema = z
  .string()
  .trim()
  .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must start with postgres:// or postgresql://')
  .refine((v) => URL.canParse(v), 'is not a valid URL');

export const databaseEnvSchema = z.object({
  DATABASE_URL: databaseUrlSchema.optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(1000).default(10),
  DATABASE_POOL_MIN: z.coerce.number().int().min(0).max(1000).default(0),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),
  DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  // A PEM bundle, or a path to one, for servers whose certificate is not signed by a public CA.
  DATABASE_SSL_CA: z.string().trim().min(1).optional(),
});
export type DatabaseEnv = z.infer<typeof databaseEnvSchema>;

export interface ConnectionSettings {
  host: string;
  port: number;
  user: string;
  password: string | undefined;
  dbName: string;
  /** `false` for plain TCP; otherwise the options handed to `tls.connect`. */
  ssl: false | ConnectionOptions;
  poolMin: number;
  poolMax: number;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  applicationName: string;
}

export class DatabaseUrlError extends Error {
  override name = 'DatabaseUrlError';
}

const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'] as const;

/**
 * Turns a libpq-style URL into pool settings. node-postgres reads `sslmode=require` as
 * "verify the certificate", unlike libpq, where `require` only encrypts; managed servers
 * (Neon, Supabase, RDS) hand out `?sslmode=require` URLs expecting libpq's meaning, so we
 * apply libpq's semantics ourselves and pass explicit TLS options instead of the query string.
 *
 * `allow` and `prefer` fall back to plain TCP in libpq after a failed TLS handshake; the driver
 * cannot retry that way, so they mean "no TLS" here, as they do against a local server.
 */
export function parseDatabaseUrl(
  url: string,
  options: { sslCa?: string | undefined; applicationName?: string } = {},
): Omit<ConnectionSettings, 'poolMin' | 'poolMax' | 'statementTimeoutMs' | 'connectTimeoutMs'> {
  if (!/^postgres(ql)?:\/\//.test(url) || !URL.canParse(url)) {
    throw new DatabaseUrlError('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const parsed = new URL(url);
  const params = parsed.searchParams;
  const host = decodeURIComponent(parsed.hostname || params.get('host') || 'localhost').replace(/^\[|\]$/g, '');
  const port = parsed.port ? Number(parsed.port) : 5432;
  const dbName = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres';
  const sslMode =
    params.get('sslmode') ?? (params.get('ssl') === 'true' || params.get('ssl') === '1' ? 'verify-full' : 'disable');
  if (!(SSL_MODES as readonly string[]).includes(sslMode)) {
    throw new DatabaseUrlError(`DATABASE_URL has an unknown sslmode "${sslMode}" (use one of ${SSL_MODES.join(', ')})`);
  }
  const caSource = options.sslCa ?? params.get('sslrootcert') ?? undefined;
  const ca =
    caSource === undefined ? undefined : caSource.includes('-----BEGIN') ? caSource : readFileSync(caSource, 'utf8');
  let ssl: false | ConnectionOptions;
  switch (sslMode) {
    case 'disable':
    case 'allow':
    case 'prefer':
      ssl = false;
      break;
    case 'require':
    case 'no-verify':
      // libpq: with a root certificate given, `require` verifies the chain like `verify-ca`.
      ssl = ca ? { ca, rejectUnauthorized: true, checkServerIdentity: () => undefined } : { rejectUnauthorized: false };
      break;
    case 'verify-ca':
      ssl = { ...(ca ? { ca } : {}), rejectUnauthorized: true, checkServerIdentity: () => undefined };
      break;
    default:
      ssl = { ...(ca ? { ca } : {}), rejectUnauthorized: true };
  }
  return {
    host,
    port,
    user: decodeURIComponent(parsed.username) || 'postgres',
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    dbName,
    ssl,
    applicationName: params.get('application_name') ?? options.applicationName ?? 'threadstore',
  };
}

/** Connection settings from a validated environment. */
export function connectionSettingsFromEnv(
  env: DatabaseEnv & { DATABASE_URL: string },
  applicationName = 'threadstore',
): ConnectionSettings {
  return {
    ...parseDatabaseUrl(env.DATABASE_URL, { sslCa: env.DATABASE_SSL_CA, applicationName }),
    poolMin: env.DATABASE_POOL_MIN,
    poolMax: env.DATABASE_POOL_MAX,
    statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
    connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS,
  };
}

/** Settings for a URL with the default pool and timeouts (tests, scripts). */
export function connectionSettingsFromUrl(url: string, applicationName = 'threadstore'): ConnectionSettings {
  return connectionSettingsFromEnv(
    databaseEnvSchema.parse({ DATABASE_URL: url }) as DatabaseEnv & { DATABASE_URL: string },
    applicationName,
  );
}

/** Options for a bare `pg` Pool or Client (pg-boss, admin scripts) matching the ORM's connection. */
export function pgClientConfig(settings: ConnectionSettings) {
  return {
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    database: settings.dbName,
    ssl: settings.ssl,
    application_name: settings.applicationName,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    ...(settings.statementTimeoutMs > 0 ? { statement_timeout: settings.statementTimeoutMs } : {}),
  };
}

/** Options for a bare `pg` Client on the same database as `orm` (a LISTEN connection, say). */
export function pgClientConfigOf(orm: { config: { get(key: string): unknown } }) {
  const config = orm.config;
  return {
    host: config.get('host') as string | undefined,
    port: config.get('port') as number | undefined,
    user: config.get('user') as string | undefined,
    password: config.get('password') as string | undefined,
    database: config.get('dbName') as string | undefined,
    ...(config.get('driverOptions') as Record<string, unknown> | undefined),
  };
}
