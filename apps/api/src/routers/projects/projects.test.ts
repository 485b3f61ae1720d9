import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import type { Principal } from '@threadstore/domain';
import { anonymousPrincipal, createTestUser } from '@threadstore/domain/testing';
import { callerAs } from '../../testing/caller.ts';

const testDb = useTestDatabase();

describe('projects', () => {
  let principal: Principal;
  let userId: string;
  beforeAll(async () => {
    ({ principal, userId } = await createTestUser(testDb.orm.em.fork()));
  });

  it('creates, reads, updates with versioned settings, archives and soft-deletes, auditing each change', async () => {
    const api = callerAs(testDb.orm, principal);
    const project = await api.projects.create({ name: 'Linguistics', description: 'corpus work' });
    expect(project).toMatchObject({ name: 'Linguistics', settings: { version: 1 }, version: 1, archivedAt: null });
    expect(await api.projects.get({ id: project.id })).toEqual(project);

    const settings = {
      version: 1 as const,
      chat: { responder: 'openai' as const, model: 'gpt-x', systemPrompt: 'Be brief.' },
    };
    const updated = await api.projects.update({ id: project.id, expectedVersion: 1, settings });
    expect(updated).toMatchObject({ settings, version: 2 });
    await expect(api.projects.update({ id: project.id, expectedVersion: 1, name: 'late' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    // Settings are a versioned schema: an unknown version or field is refused, not stored.
    await expect(api.projects.update({ id: project.id, settings: { version: 2 } as never })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(
      api.projects.update({ id: project.id, settings: { version: 1, chat: { temperature: 2 } } as never }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });

    expect((await api.projects.archive({ id: project.id })).archivedAt).not.toBeNull();
    expect((await api.projects.list({})).items.map((p) => p.id)).not.toContain(project.id);
    expect((await api.projects.list({ archived: true })).items.map((p) => p.id)).toContain(project.id);
    expect((await api.projects.unarchive({ id: project.id })).archivedAt).toBeNull();

    const deleted = await api.projects.delete({ id: project.id });
    expect(deleted.deletedAt).not.toBeNull();
    await expect(api.projects.get({ id: project.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // The name is free again at once.
    expect((await api.projects.create({ name: 'Linguistics' })).name).toBe('Linguistics');

    const audit = await testDb.orm.em
      .fork()
      .execute<{ action: string; actor_id: string }[]>(
        `select action, actor_id from audit_log where subject_type = 'project' and subject_id = ? order by id`,
        [project.id],
      );
    expect(audit.map((row) => row.action)).toEqual([
      'projects.create',
      'projects.update',
      'projects.archive',
      'projects.unarchive',
      'projects.delete',
    ]);
    expect(new Set(audit.map((row) => row.actor_id))).toEqual(new Set([userId]));
  });

  it('refuses a duplicate name with CONFLICT and pages the list by keyset', async () => {
    const { principal: owner } = await createTestUser(testDb.orm.em.fork());
    const api = callerAs(testDb.orm, owner);
    for (let i = 0; i < 5; i += 1) await api.projects.create({ name: `p${i}` });
    await expect(api.projects.create({ name: 'p1' })).rejects.toMatchObject({ code: 'CONFLICT' });
    const first = await api.projects.list({ limit: 2 });
    const second = await api.projects.list({ limit: 2, cursor: first.nextCursor! });
    const third = await api.projects.list({ limit: 2, cursor: second.nextCursor! });
    expect([...first.items, ...second.items, ...third.items].map((p) => p.name)).toEqual([
      'p4',
      'p3',
      'p2',
      'p1',
      'p0',
    ]);
    expect(third.nextCursor).toBeNull();
    await expect(api.projects.list({ archived: true, cursor: first.nextCursor! })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('files sessions under the caller’s projects and lists them by project; deleted projects take no new sessions', async () => {
    const api = callerAs(testDb.orm, principal);
    const project = await api.projects.create({ name: 'filing' });
    const inside = await api.sessions.create({ projectId: project.id, title: 'inside' });
    await api.sessions.create({ title: 'outside' });
    expect(inside.projectId).toBe(project.id);
    expect((await api.sessions.list({ projectId: project.id })).items.map((s) => s.id)).toEqual([inside.id]);
    await api.projects.delete({ id: project.id });
    await expect(api.sessions.create({ projectId: project.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('is for signed-in users only', async () => {
    const api = callerAs(testDb.orm, anonymousPrincipal());
    await expect(api.projects.create({ name: 'x' })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });
});
