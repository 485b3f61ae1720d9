import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLogSchema, MaintenanceRunSchema, StatsSnapshotSchema, ApiKeySchema } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { anonymousPrincipal, createTestUser } from '@threadstore/domain/testing';
import type { Principal } from '@threadstore/domain';
import { createLogger } from '@threadstore/runtime';
import { defineJob } from '@threadstore/jobs';
import { PgBoss } from 'pg-boss';
import * as z from 'zod';
import { createJobQueue, type JobQueue } from '../../admin/job-queue.ts';
import { createCaller } from '../_app.ts';
import { createContextInner } from '../../trpc/context.ts';

const SCHEMA = 'pgboss_admin_test';

// Definitions of the kind @threadstore/jobs holds; the API never sees a handler.
const sweep = defineJob({
  name: 'test-sweep',
  description: 'a sweep with a dry run',
  payload: z.object({ dryRun: z.boolean().default(false), batchSize: z.number().int().min(1).default(100) }),
  schedule: { cron: '0 3 * * *' },
});
const report = defineJob({ name: 'test-report', description: 'no dry run', payload: z.object({}) });

describe('admin procedures', () => {
  const testDb = useTestDatabase();
  let boss: PgBoss;
  let queue: JobQueue;
  let admin: Principal;
  let user: Principal;

  beforeAll(async () => {
    const connectionString = testDb.db.url;
    // The worker's side: queues created and the schedule registered, as startWorker does.
    boss = new PgBoss({ connectionString, schema: SCHEMA, supervise: false, schedule: false });
    await boss.start();
    for (const job of [sweep, report]) await boss.createQueue(job.name, { policy: 'exclusive' });
    await boss.schedule(sweep.name, '15 4 * * *', {}, { tz: 'UTC', key: 'registry' });
    queue = createJobQueue({
      connection: { connectionString },
      schema: SCHEMA,
      logger: createLogger('test', 'silent'),
      jobs: [sweep, report],
    });
    const em = testDb.orm.em.fork();
    admin = (await createTestUser(em, { role: 'admin' })).principal;
    user = (await createTestUser(em)).principal;
  });
  afterAll(async () => {
    await queue?.close();
    await boss?.stop({ graceful: false, close: true });
  });

  const as = (principal: Principal | null) =>
    createCaller(() =>
      createContextInner({
        orm: testDb.orm,
        logger: createLogger('test', 'silent'),
        config: { NODE_ENV: 'test', READINESS_TIMEOUT_MS: 2_000 },
        requestId: 'admin-test',
        principal,
        jobQueue: queue,
      }),
    );

  it('refuses every principal without the admin role, changing nothing', async () => {
    const em = testDb.orm.em.fork();
    const keyOwner = await createTestUser(em);
    const key = em.create(ApiKeySchema, {
      user: keyOwner.userId,
      name: 'agent',
      keyPrefix: 'ts_test',
      keyHash: 'a'.repeat(64),
      scopes: ['read', 'write'],
    });
    await em.flush();
    const nonAdmins: Principal[] = [
      user,
      anonymousPrincipal(),
      { kind: 'apiKey', userId: keyOwner.userId, role: 'user', apiKeyId: key.id, scopes: ['read', 'write'] },
    ];
    for (const principal of nonAdmins) {
      const caller = as(principal);
      for (const call of [
        () => caller.admin.listJobs(),
        () => caller.admin.runJob({ job: sweep.name }),
        () => caller.admin.listRuns({}),
        () => caller.admin.latestStats(),
        () => caller.admin.statsSeries({}),
      ]) {
        await expect(call()).rejects.toMatchObject({ code: 'FORBIDDEN' });
      }
    }
    await expect(as(null).admin.listJobs()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await boss.findJobs(sweep.name)).toEqual([]);
  });

  it('lists the jobs with their registered schedules and latest runs', async () => {
    const em = testDb.orm.em.fork();
    const older = em.create(MaintenanceRunSchema, {
      job: sweep.name,
      outcome: 'failed',
      startedAt: new Date('2026-01-01T03:00:00Z'),
      finishedAt: new Date('2026-01-01T03:01:00Z'),
      error: 'boom',
    });
    const newer = em.create(MaintenanceRunSchema, {
      job: sweep.name,
      outcome: 'succeeded',
      startedAt: new Date('2026-01-02T03:00:00Z'),
      finishedAt: new Date('2026-01-02T03:05:00Z'),
    });
    await em.flush();
    const { jobs } = await as(admin).admin.listJobs();
    expect(jobs).toEqual([
      {
        name: sweep.name,
        description: sweep.description,
        defaultCron: '0 3 * * *',
        schedule: { cron: '15 4 * * *', timezone: 'UTC' },
        supportsDryRun: true,
        lastRun: {
          id: newer.id,
          outcome: 'succeeded',
          startedAt: '2026-01-02T03:00:00.000Z',
          finishedAt: '2026-01-02T03:05:00.000Z',
        },
      },
      {
        name: report.name,
        description: report.description,
        defaultCron: null,
        schedule: null,
        supportsDryRun: false,
        lastRun: null,
      },
    ]);
    expect(older.id).not.toBe(newer.id);
  });

  it('queues a dry run now, audited, and refuses a second while the first waits', async () => {
    const { queueJobId } = await as(admin).admin.runJob({ job: sweep.name, dryRun: true, payload: { batchSize: 10 } });
    const job = await boss.getJobById(sweep.name, queueJobId);
    expect(job?.data).toEqual({ batchSize: 10, dryRun: true });
    const audit = await testDb.orm.em.fork().find(AuditLogSchema, { action: 'admin.runJob' });
    expect(audit).toEqual([
      expect.objectContaining({
        actorType: 'user',
        actorId: (admin as { userId: string }).userId,
        subjectId: sweep.name,
      }),
    ]);

    await expect(as(admin).admin.runJob({ job: sweep.name })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('already queued or running'),
    });
  });

  it('refuses unknown jobs, invalid payloads and dry runs a job does not have, queueing nothing', async () => {
    const caller = as(admin);
    await expect(caller.admin.runJob({ job: 'no-such-job' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(caller.admin.runJob({ job: report.name, dryRun: true })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: 'job "test-report" has no dry run',
    });
    await expect(caller.admin.runJob({ job: sweep.name, payload: { batchSize: 0 } })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining('batchSize'),
    });
    expect(await boss.findJobs(report.name)).toEqual([]);
  });

  it('pages through recent runs newest first, by job', async () => {
    const em = testDb.orm.em.fork();
    await em.nativeDelete(MaintenanceRunSchema, {});
    for (let i = 0; i < 5; i++) {
      em.create(MaintenanceRunSchema, {
        job: i % 2 === 0 ? sweep.name : report.name,
        outcome: 'succeeded',
        startedAt: new Date(Date.UTC(2026, 0, 1, i)),
        finishedAt: new Date(Date.UTC(2026, 0, 1, i, 30)),
        rowsAffected: i,
        details: { index: i },
      });
      await em.flush();
    }
    const first = await as(admin).admin.listRuns({ limit: 2 });
    expect(first.items.map((run) => run.rowsAffected)).toEqual([4, 3]);
    const second = await as(admin).admin.listRuns({ limit: 2, cursor: first.nextCursor! });
    expect(second.items.map((run) => run.rowsAffected)).toEqual([2, 1]);
    const last = await as(admin).admin.listRuns({ limit: 2, cursor: second.nextCursor! });
    expect(last).toEqual({
      items: [expect.objectContaining({ rowsAffected: 0, details: { index: 0 } })],
      nextCursor: null,
    });
    const sweeps = await as(admin).admin.listRuns({ job: sweep.name });
    expect(sweeps.items.map((run) => run.rowsAffected)).toEqual([4, 2, 0]);
    await expect(as(admin).admin.listRuns({ cursor: 'forged' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('returns the latest stats snapshot, or null before the first', async () => {
    expect(await as(admin).admin.latestStats()).toEqual({ snapshot: null });
    const em = testDb.orm.em.fork();
    em.create(StatsSnapshotSchema, { takenAt: new Date('2026-01-01T00:00:00Z'), database: { old: true }, product: {} });
    const newest = em.create(StatsSnapshotSchema, {
      takenAt: new Date('2026-01-01T01:00:00Z'),
      database: { tables: [] },
      product: { sessionsCreated: 3 },
    });
    await em.flush();
    expect(await as(admin).admin.latestStats()).toEqual({
      snapshot: {
        id: newest.id,
        takenAt: '2026-01-01T01:00:00.000Z',
        database: { tables: [] },
        product: { sessionsCreated: 3 },
      },
    });
  });

  it('returns the snapshots of a range as chart series, and refuses a range that ends before it starts', async () => {
    const em = testDb.orm.em.fork();
    await em.nativeDelete(StatsSnapshotSchema, {});
    await em.insert(StatsSnapshotSchema, {
      takenAt: new Date('2026-02-01T10:00:00Z'),
      database: { databaseBytes: 2_048, tables: [{ table: 'chat_messages', tableBytes: 1_024, deadTuples: 7 }] },
      product: {
        days: [
          {
            day: '2026-02-01',
            sessionsCreated: 1,
            messagesCreated: 3,
            activeUsers: 1,
            activeAnonymous: 0,
            promptTokens: 30,
            completionTokens: 15,
            cost: '0.0100000000',
          },
        ],
      },
    });

    const series = await as(admin).admin.statsSeries({ since: '2026-02-01T00:00:00Z', until: '2026-02-02T00:00:00Z' });

    expect(series).toMatchObject({
      snapshotsInRange: 1,
      takenAt: ['2026-02-01T10:00:00.000Z'],
      databaseBytes: [2_048],
      tables: [{ table: 'chat_messages', tableBytes: [1_024], indexBytes: [null], deadTuples: [7] }],
      days: [{ day: '2026-02-01', messages: 3, cost: '0.0100000000' }],
      byDayAndModel: [],
    });
    await expect(
      as(admin).admin.statsSeries({ since: '2026-02-02T00:00:00Z', until: '2026-02-01T00:00:00Z' }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('since must come before until') });
  });
});
