import { beforeAll, describe, expect, it } from 'vitest';
import { ProjectSchema } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import type { Principal } from '@threadstore/domain';
import { anonymousPrincipal, createTestUser } from '@threadstore/domain/testing';
import { callerAs } from '../../testing/caller.ts';

const testDb = useTestDatabase();

type Api = ReturnType<typeof callerAs>;

/** Every sessions procedure that takes a session id, called the way a client would. */
const BY_ID: Record<string, (api: Api, id: string) => Promise<unknown>> = {
  get: (api, id) => api.sessions.get({ id }),
  update: (api, id) => api.sessions.update({ id, title: 'hijacked', metadata: { pwned: true } }),
  archive: (api, id) => api.sessions.archive({ id }),
  unarchive: (api, id) => api.sessions.unarchive({ id }),
  delete: (api, id) => api.sessions.delete({ id }),
  restore: (api, id) => api.sessions.restore({ id }),
  purge: (api, id) => api.sessions.purge({ id }),
  start: (api, id) => api.sessions.start({ id }),
  progress: (api, id) => api.sessions.progress({ id, phase: 'x', addCost: '5' }),
  complete: (api, id) => api.sessions.complete({ id, synthesis: 'forged' }),
  fail: (api, id) => api.sessions.fail({ id, error: 'forged' }),
  kill: (api, id) => api.sessions.kill({ id }),
};

interface Victim {
  label: string;
  principal: Principal;
  /** One session in each state a procedure could act on: created, running, archived, deleted. */
  ids: string[];
}

async function tableSnapshot(): Promise<{ sessions: unknown[]; audits: number }> {
  const em = testDb.orm.em.fork();
  const sessions = await em.execute('select * from chat_sessions order by id');
  const [audits] = await em.execute<{ count: number }[]>('select count(*)::int as count from audit_log');
  return { sessions, audits: audits!.count };
}

describe('sessions across tenants', () => {
  const victims: Victim[] = [];
  let attackers: { label: string; principal: Principal }[];
  let victimUserId: string;
  let victimProjectId: string;

  beforeAll(async () => {
    const victimUser = await createTestUser(testDb.orm.em.fork(), { name: 'victim' });
    victimUserId = victimUser.userId;
    const otherUser = await createTestUser(testDb.orm.em.fork(), { name: 'attacker' });
    const em = testDb.orm.em.fork();
    const project = em.create(ProjectSchema, { owner: victimUserId, name: 'secret plans' });
    await em.flush();
    victimProjectId = project.id;

    for (const [label, principal] of [
      ['a user', victimUser.principal],
      ['an anonymous visitor', anonymousPrincipal()],
    ] as const) {
      const api = callerAs(testDb.orm, principal);
      const created = await api.sessions.create({ title: 'Confidential merger', clientKey: 'victim-key' });
      const running = await api.sessions.create({ title: 'Confidential run' });
      await api.sessions.start({ id: running.id });
      const archived = await api.sessions.create({ title: 'Confidential archive' });
      await api.sessions.archive({ id: archived.id });
      const deleted = await api.sessions.create({ title: 'Confidential bin' });
      await api.sessions.delete({ id: deleted.id });
      victims.push({ label, principal, ids: [created.id, running.id, archived.id, deleted.id] });
    }
    attackers = [
      { label: 'another user', principal: otherUser.principal },
      {
        label: 'another user’s API key',
        principal: {
          kind: 'apiKey',
          userId: otherUser.userId,
          role: 'user',
          apiKeyId: '0197a0b0-0000-7000-8000-00000000a11e',
          scopes: ['read', 'write'],
        },
      },
      { label: 'an anonymous visitor', principal: anonymousPrincipal() },
    ];
  });

  describe.each(Object.keys(BY_ID))('sessions.%s', (procedure) => {
    it('answers NOT_FOUND for every session of a user and of an anonymous visitor, exactly as for a missing id, changing nothing', async () => {
      const before = await tableSnapshot();
      for (const attacker of attackers) {
        const api = callerAs(testDb.orm, attacker.principal);
        const missing = await BY_ID[procedure]!(api, '0197a0b0-0000-7000-8000-000000000000').catch((e: unknown) => e);
        expect(missing).toMatchObject({ code: 'NOT_FOUND', message: 'session not found' });
        for (const victim of victims) {
          for (const id of victim.ids) {
            const answer = await BY_ID[procedure]!(api, id).catch((e: unknown) => e);
            expect(answer, `${attacker.label} → ${victim.label}'s ${id}`).toMatchObject({
              code: 'NOT_FOUND',
              message: 'session not found',
            });
            expect((answer as { cause?: { details?: unknown } }).cause?.details).toBeUndefined();
          }
        }
      }
      expect(await tableSnapshot()).toEqual(before);
    });
  });

  it('never lists another principal’s sessions, not even through a title search or the bin', async () => {
    for (const attacker of attackers) {
      const api = callerAs(testDb.orm, attacker.principal);
      for (const input of [
        {},
        { titleContains: 'Confidential' },
        { archived: 'all' as const },
        { deleted: true },
        { projectId: victimProjectId },
        { status: ['created', 'running'] as ('created' | 'running')[], orderBy: 'created' as const },
      ]) {
        expect((await api.sessions.list(input)).items).toEqual([]);
      }
    }
  });

  it('refuses one principal’s cursor to another, even for the very same listing', async () => {
    const victimApi = callerAs(testDb.orm, victims[0]!.principal);
    const { nextCursor } = await victimApi.sessions.list({ archived: 'all', limit: 1 });
    expect(nextCursor).not.toBeNull();
    for (const attacker of attackers) {
      await expect(
        callerAs(testDb.orm, attacker.principal).sessions.list({ archived: 'all', limit: 1, cursor: nextCursor! }),
      ).rejects.toMatchObject({ code: 'BAD_REQUEST', cause: { details: { field: 'cursor' } } });
    }
  });

  it('answers NOT_FOUND for another user’s project on create and getOrCreate, creating nothing', async () => {
    const before = await tableSnapshot();
    for (const attacker of attackers) {
      const api = callerAs(testDb.orm, attacker.principal);
      await expect(api.sessions.create({ projectId: victimProjectId })).rejects.toMatchObject({
        code: 'NOT_FOUND',
        message: 'project not found',
      });
      await expect(
        api.sessions.getOrCreate({ clientKey: 'new-key', projectId: victimProjectId }),
      ).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'project not found' });
    }
    expect(await tableSnapshot()).toEqual(before);
  });

  it('keeps client keys per owner: the same key gets the attacker a session of their own', async () => {
    for (const attacker of attackers) {
      const { session, created } = await callerAs(testDb.orm, attacker.principal).sessions.getOrCreate({
        clientKey: 'victim-key',
      });
      expect(session.title).toBeNull();
      expect(victims.flatMap((v) => v.ids)).not.toContain(session.id);
      // The user and their API key are one owner: the second of them finds the first one's session.
      expect(created).toBe(attacker.label !== 'another user’s API key');
    }
  });
});
