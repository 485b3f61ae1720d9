import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiEnvSchema } from '@threadstore/api/env';
import { databaseEnvSchema, DEFAULT_ROLE_NAMES, parseDatabaseUrl } from '@threadstore/db';
import { workerEnvSchema } from '@threadstore/worker/env';
import { jobDefinitions as jobs } from '@threadstore/jobs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type * as z from 'zod';

/**
 * docker-compose.yml cannot run on our machines (no Docker engine), so this keeps it honest by
 * reading it: every service, port and variable it names must match what the apps read.
 */

const ROOT = join(import.meta.dirname, '..', '..', '..');

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | number>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as ComposeFile;
const { postgres, roles, migrate, api, worker } = compose.services;

/** What compose would substitute for `${NAME:-default}` when nothing is set in the environment. */
function interpolate(value: string | number): string {
  return String(value).replace(
    /\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}/g,
    (_, _name: string, fallback?: string) => fallback ?? '',
  );
}

function environmentOf(service: ComposeService): Record<string, string> {
  return Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(v)]));
}

/** Variables set in compose that the app's schema does not read would be silently ignored. */
function unknownVariables(service: ComposeService, schema: z.ZodObject): string[] {
  return Object.keys(service.environment ?? {}).filter((name) => !(name in schema.shape));
}

describe('docker-compose.yml', () => {
  it('has the database, a roles step, a migration step, the API and the worker (monitoring only behind its profile)', () => {
    const always = Object.entries(compose.services).filter(([, service]) => !('profiles' in service));
    expect(always.map(([name]) => name).sort()).toEqual(['api', 'migrate', 'postgres', 'roles', 'worker']);
  });

  it('runs a current, supported PostgreSQL with a healthcheck and a named volume', () => {
    const major = Number(/^postgres:(\d+)/.exec(postgres!.image ?? '')?.[1]);
    expect(major).toBeGreaterThanOrEqual(15);
    expect(major).toBeLessThanOrEqual(18);
    expect(postgres!.healthcheck?.test.join(' ')).toMatch(/pg_isready/);
    const volume = postgres!.volumes?.[0]?.split(':')[0];
    expect(Object.keys(compose.volumes ?? {})).toContain(volume);
  });

  it('starts the apps only after migrations ran, and migrations only once PostgreSQL is healthy', () => {
    expect(roles!.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(migrate!.depends_on).toEqual({ roles: { condition: 'service_completed_successfully' } });
    for (const app of [api!, worker!]) {
      expect(app.depends_on).toEqual({ migrate: { condition: 'service_completed_successfully' } });
    }
  });

  it('points every process at the compose PostgreSQL as its own role, with the password the roles step sets', () => {
    const db = environmentOf(postgres!);
    const rolesEnv = environmentOf(roles!);
    expect(parseDatabaseUrl(rolesEnv.DATABASE_URL!)).toMatchObject({
      host: 'postgres',
      user: db.POSTGRES_USER,
      password: db.POSTGRES_PASSWORD,
      dbName: db.POSTGRES_DB,
    });
    const expected = [
      [migrate!, DEFAULT_ROLE_NAMES.owner, rolesEnv.THREADSTORE_OWNER_PASSWORD],
      [api!, DEFAULT_ROLE_NAMES.api, rolesEnv.THREADSTORE_API_PASSWORD],
      [worker!, DEFAULT_ROLE_NAMES.worker, rolesEnv.THREADSTORE_WORKER_PASSWORD],
    ] as const;
    for (const [service, user, password] of expected) {
      expect(parseDatabaseUrl(environmentOf(service).DATABASE_URL!)).toMatchObject({
        host: 'postgres',
        port: 5432,
        user,
        password,
        dbName: db.POSTGRES_DB,
      });
    }
  });

  it('gives each app an environment its configuration accepts, with no variable it would ignore', () => {
    const workerSchema = workerEnvSchema(jobs);
    expect(apiEnvSchema.safeParse(environmentOf(api!)).error).toBeUndefined();
    expect(workerSchema.safeParse(environmentOf(worker!)).error).toBeUndefined();
    expect(databaseEnvSchema.safeParse(environmentOf(migrate!)).error).toBeUndefined();
    expect(unknownVariables(api!, apiEnvSchema)).toEqual([]);
    expect(unknownVariables(worker!, workerSchema)).toEqual([]);
    expect(unknownVariables(migrate!, databaseEnvSchema)).toEqual([]);
  });

  it('lets migrations run without the statement timeout the apps use', () => {
    expect(databaseEnvSchema.parse(environmentOf(migrate!)).DATABASE_STATEMENT_TIMEOUT_MS).toBe(0);
  });

  it('publishes the port the API listens on, and probes its /readyz there', () => {
    const apiPort = apiEnvSchema.parse(environmentOf(api!)).API_PORT;
    const containerPort = Number(api!.ports?.[0]?.split(':').at(-1));
    expect(containerPort).toBe(apiPort);
    expect(api!.healthcheck?.test.join(' ')).toContain(`127.0.0.1:${apiPort}/readyz`);
  });

  it('runs commands that the image builds, from sources that exist', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    for (const service of [roles!, migrate!, api!, worker!]) {
      expect(service.build).toBe('.');
      const [binary, script] = service.command ?? [];
      expect(binary).toBe('node');
      // apps/api/dist/main.js is built from apps/api/src/main.ts
      const [packageDir, source] = script!.split('/dist/');
      expect(existsSync(join(ROOT, packageDir!, 'src', source!.replace(/\.js$/, '.ts')))).toBe(true);
      const packageName = JSON.parse(readFileSync(join(ROOT, packageDir!, 'package.json'), 'utf8')).name as string;
      expect(dockerfile).toContain(`--filter=${packageName}`);
    }
  });
});
