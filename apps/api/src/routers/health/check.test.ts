import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MikroORM } from '@threadstore/db';
import { migrationNames, useTestDatabase } from '@threadstore/db/testing';
import { createLogger } from '@threadstore/runtime';
import { captureLogs } from '@threadstore/runtime/testing';
import { startBrokenDatabase } from '../../../test/unreachable-database.ts';
import { createContextInner, type RequestConfig } from '../../trpc/context.ts';
import { API_VERSION } from '../../version.ts';
import { createCaller } from '../_app.ts';

function callerOn(orm: MikroORM, { logger = createLogger('test', 'silent'), readinessTimeoutMs = 2_000 } = {}) {
  const config: RequestConfig = { NODE_ENV: 'test', READINESS_TIMEOUT_MS: readinessTimeoutMs };
  return createCaller(createContextInner({ orm, logger, config, requestId: 'health-test' }));
}

describe('health.check', () => {
  describe('on a migrated database', () => {
    const testDb = useTestDatabase();

    it('is ok, with the database reachable and nothing pending', async () => {
      const health = await callerOn(testDb.orm).health.check();
      expect(health).toEqual({
        status: 'ok',
        version: API_VERSION,
        uptimeSeconds: expect.any(Number),
        database: { reachable: true, latencyMs: expect.any(Number), pendingMigrations: [] },
      });
      expect(API_VERSION).toMatch(/^\d+\.\d+\.\d+/);
    });
  });

  describe('while a migration holds the migrations table', () => {
    const testDb = useTestDatabase();
    let migrator: MikroORM;
    beforeAll(async () => {
      migrator = await testDb.db.createOrm();
    });
    afterAll(() => migrator?.close());

    it('is degraded within the timeout instead of waiting for the migration', async () => {
      const migration = migrator.em.fork();
      await migration.begin();
      try {
        await migration.execute('lock table mikro_orm_migrations in access exclusive mode');
        const { logger, logs } = captureLogs('api');
        const health = await callerOn(testDb.orm, { logger, readinessTimeoutMs: 300 }).health.check();
        expect(health).toMatchObject({
          status: 'degraded',
          database: { reachable: true, latencyMs: expect.any(Number), pendingMigrations: [] },
        });
        expect(logs.lines).toContainEqual(
          expect.objectContaining({ level: 'warn', msg: 'not ready: migration status not readable within 300 ms' }),
        );
      } finally {
        await migration.rollback();
      }
    });
  });

  describe('on an unmigrated database', () => {
    const testDb = useTestDatabase({ empty: true });

    it('is degraded and names the migration the database lacks, logging it with the request id', async () => {
      const { logger, logs } = captureLogs('api');
      const health = await callerOn(testDb.orm, { logger }).health.check();
      expect(health.status).toBe('degraded');
      expect(health.database.reachable).toBe(true);
      expect(health.database.pendingMigrations).toEqual(migrationNames());
      expect(logs.lines).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          requestId: 'health-test',
          pending: health.database.pendingMigrations,
        }),
      );
    });
  });

  describe('when the database drops every connection', () => {
    it('is degraded instead of failing the call', async () => {
      const broken = await startBrokenDatabase('hang-up');
      const orm = await broken.createOrm();
      try {
        const health = await callerOn(orm).health.check();
        expect(health).toMatchObject({
          status: 'degraded',
          database: { reachable: false, latencyMs: null, pendingMigrations: [] },
        });
      } finally {
        await broken.close();
        await orm.close();
      }
    });
  });
});
