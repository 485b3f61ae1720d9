import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuditLogSchema, ProjectSchema } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import type { Principal } from '@threadstore/domain';
import { createTestUser } from '@threadstore/domain/testing';
import { TRPCError } from '@trpc/server';
import { callerAs } from '../../testing/caller.ts';

const testDb = useTestDatabase();
type Api = ReturnType<typeof callerAs>;

let alice: Principal;
let api: Api;

beforeAll(async () => {
  alice = (await createTestUser(testDb.orm.em.fork(), { name: `alice-${randomUUID()}` })).principal;
  api = callerAs(testDb.orm, alice);
});

async function codeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    if (error instanceof TRPCError) return error.code;
    throw error;
  }
  return 'OK';
}

const node = async (name: string, type = 'company', projectId?: string) =>
  (await api.entities.upsert({ type, canonicalKey: name.toLowerCase(), name, ...(projectId ? { projectId } : {}) }))
    .entity;

describe('entities.upsert', () => {
  it('makes one node of 20 concurrent calls for one key, and writes once', async () => {
    const key = `acme-${randomUUID()}`;
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        api.entities.upsert({ type: 'company', canonicalKey: key, name: 'ACME', aliases: ['Acme Inc'] }),
      ),
    );
    expect(new Set(results.map((result) => result.entity.id)).size).toBe(1);
    expect(results.filter((result) => result.created)).toHaveLength(1);
    const rows = await testDb.orm.em
      .fork()
      .getConnection()
      .execute<{ count: number }[]>(`select count(*)::int as count from entity_nodes where canonical_key = ?`, [key]);
    expect(rows[0]!.count).toBe(1);
    // The 19 others changed nothing, so they left no audit rows.
    const audits = await testDb.orm.em
      .fork()
      .count(AuditLogSchema, { action: 'entities.upsert', subjectId: results[0]!.entity.id });
    expect(audits).toBe(1);
  });

  it('adds aliases, merges properties, replaces the name', async () => {
    const key = `globex-${randomUUID()}`;
    await api.entities.upsert({
      type: 'company',
      canonicalKey: key,
      name: 'Globex',
      aliases: ['Globex Corp'],
      properties: { country: 'US', founded: 1989 },
    });
    const { entity, created } = await api.entities.upsert({
      type: 'company',
      canonicalKey: key,
      name: 'Globex Corporation',
      aliases: ['Globex Corp', 'GBX'],
      properties: { country: 'CA' },
    });
    expect(created).toBe(false);
    expect(entity).toMatchObject({
      name: 'Globex Corporation',
      aliases: ['GBX', 'Globex Corp'],
      properties: { country: 'CA', founded: 1989 },
    });
    expect(await api.entities.get({ id: entity.id })).toEqual(entity);
  });

  it('keeps graphs apart by project, and refuses a project that is not the caller’s', async () => {
    const em = testDb.orm.em.fork();
    const project = em.create(ProjectSchema, {
      owner: alice.kind === 'user' ? alice.userId : '',
      name: `p-${randomUUID()}`,
    });
    const mallory = await createTestUser(em);
    const foreign = em.create(ProjectSchema, { owner: mallory.userId, name: 'theirs' });
    await em.flush();
    const outside = await node(`Initech-${project.id}`);
    const inside = await node(`Initech-${project.id}`, 'company', project.id);
    expect(inside.id).not.toBe(outside.id);
    expect(inside.projectId).toBe(project.id);
    expect(await codeOf(node('Hooli', 'company', foreign.id))).toBe('NOT_FOUND');
    expect(await codeOf(node('Hooli', 'company', randomUUID()))).toBe('NOT_FOUND');
    // Edges stay within one graph.
    expect(await codeOf(api.relationships.upsert({ sourceId: inside.id, targetId: outside.id, type: 'is' }))).toBe(
      'BAD_REQUEST',
    );
  });

  it('refuses oversized properties with a typed error and writes nothing', async () => {
    const key = `big-${randomUUID()}`;
    const big = { blob: 'x'.repeat(70_000) };
    expect(await codeOf(api.entities.upsert({ type: 't', canonicalKey: key, name: 'Big', properties: big }))).toBe(
      'BAD_REQUEST',
    );
    expect(await codeOf(api.entities.upsert({ type: 't', canonicalKey: 'a\0b', name: 'Nul' }))).toBe('BAD_REQUEST');
  });
});

describe('entities.search', () => {
  it('finds names and aliases by word prefix, exact names first', async () => {
    const tag = randomUUID().slice(0, 8);
    const exact = await node(`Umbrella ${tag}`);
    const longer = await node(`Umbrella ${tag} Holdings`);
    const byAlias = (
      await api.entities.upsert({
        type: 'company',
        canonicalKey: `u-${tag}`,
        name: 'UC',
        aliases: [`Umbrella ${tag}x`],
      })
    ).entity;
    const { items } = await api.entities.search({ query: `umbrella ${tag}` });
    expect(items.map((item) => item.entity.id)).toEqual([exact.id, longer.id, byAlias.id]);
    expect((await api.entities.search({ query: `umbr ${tag.slice(0, 4)}` })).items).toHaveLength(3);
    expect((await api.entities.search({ query: `umbrella ${tag}`, types: ['person'] })).items).toEqual([]);
    expect(await codeOf(api.entities.search({ query: '!!!' }))).toBe('BAD_REQUEST');
  });
});

describe('relationships', () => {
  it('unite evidence on upsert (each item once), check it is the caller’s, and can be removed', async () => {
    const a = await node(`A-${randomUUID()}`);
    const b = await node(`B-${randomUUID()}`);
    const session = await api.sessions.create({ title: 'source' });
    const message = await api.messages.append({ sessionId: session.id, role: 'user', content: 'A owns B' });
    const first = await api.relationships.upsert({
      sourceId: a.id,
      targetId: b.id,
      type: 'owns',
      weight: 0.5,
      evidence: { messageIds: [message.id], urls: ['https://example.test/1'] },
      validFrom: '2020-01-01T00:00:00.000Z',
    });
    expect(first.created).toBe(true);
    const second = await api.relationships.upsert({
      sourceId: a.id,
      targetId: b.id,
      type: 'owns',
      evidence: { messageIds: [message.id], urls: ['https://example.test/2', 'https://example.test/1'] },
    });
    expect(second).toMatchObject({ created: false, relationship: { id: first.relationship.id, weight: 0.5 } });
    expect(second.relationship.evidence).toEqual({
      messageIds: [message.id],
      investigationIds: [],
      urls: ['https://example.test/1', 'https://example.test/2'],
    });
    expect(second.relationship.validFrom).toBe('2020-01-01T00:00:00.000000Z');
    // The span may not end before it starts, even against the stored start.
    expect(
      await codeOf(
        api.relationships.upsert({ sourceId: a.id, targetId: b.id, type: 'owns', validTo: '2019-01-01T00:00:00Z' }),
      ),
    ).toBe('BAD_REQUEST');
    const mallory = callerAs(testDb.orm, (await createTestUser(testDb.orm.em.fork())).principal);
    const theirSession = await mallory.sessions.create({});
    const theirMessage = await mallory.messages.append({ sessionId: theirSession.id, role: 'user', content: 'x' });
    expect(
      await codeOf(
        api.relationships.upsert({
          sourceId: a.id,
          targetId: b.id,
          type: 'owns',
          evidence: { messageIds: [theirMessage.id] },
        }),
      ),
    ).toBe('NOT_FOUND');
    expect(await api.relationships.remove({ id: first.relationship.id })).toEqual({
      id: first.relationship.id,
      removed: true,
    });
    expect(await codeOf(api.relationships.remove({ id: first.relationship.id }))).toBe('NOT_FOUND');
  });
});

describe('entities.merge', () => {
  it('moves every relationship and its evidence once, and the merged id resolves to the survivor', async () => {
    const tag = randomUUID().slice(0, 8);
    const survivor = await node(`Survivor ${tag}`);
    const merged = (
      await api.entities.upsert({
        type: 'company',
        canonicalKey: `merged-${tag}`,
        name: `Merged ${tag}`,
        aliases: ['Old Name'],
      })
    ).entity;
    const c = await node(`C ${tag}`);
    const d = await node(`D ${tag}`);
    const url = (n: number) => `https://example.test/${tag}/${n}`;
    const edge = (sourceId: string, targetId: string, type: string, urls: number[]) =>
      api.relationships.upsert({ sourceId, targetId, type, evidence: { urls: urls.map(url) } });
    const shared = await edge(survivor.id, c.id, 'supplies', [1, 2]);
    await edge(merged.id, c.id, 'supplies', [2, 3]); // same edge as `shared` once merged
    const moved = await edge(d.id, merged.id, 'owns', [4]); // re-pointed
    const movedOut = await edge(merged.id, d.id, 'supplies', [5]); // re-pointed
    await edge(merged.id, survivor.id, 'same-as', [6]); // would become a loop

    const result = await api.entities.merge({ survivorId: survivor.id, mergedId: merged.id });
    expect(result.id).toBe(survivor.id);
    expect(result.aliases).toEqual(expect.arrayContaining([`Merged ${tag}`, 'Old Name']));

    const rows = await testDb.orm.em
      .fork()
      .getConnection()
      .execute<{ id: string; source_id: string; target_id: string; type: string; evidence_urls: string[] }[]>(
        `select id, source_id, target_id, type, evidence_urls from entity_relationships
          where source_id in (?, ?, ?, ?) or target_id in (?, ?, ?, ?) order by type, source_id`,
        [survivor.id, merged.id, c.id, d.id, survivor.id, merged.id, c.id, d.id],
      );
    expect(rows.map((row) => [row.source_id, row.target_id, row.type, row.evidence_urls]).sort()).toEqual(
      [
        [survivor.id, c.id, 'supplies', [url(1), url(2), url(3)]],
        [d.id, survivor.id, 'owns', [url(4)]],
        [survivor.id, d.id, 'supplies', [url(5)]],
      ].sort(),
    );
    expect(rows.map((row) => row.id).sort()).toEqual(
      [shared.relationship.id, moved.relationship.id, movedOut.relationship.id].sort(),
    );

    // The merged id and key keep resolving to the survivor.
    expect((await api.entities.get({ id: merged.id })).id).toBe(survivor.id);
    const again = await api.entities.upsert({
      type: 'company',
      canonicalKey: `merged-${tag}`,
      name: `Survivor ${tag}`,
    });
    expect(again).toMatchObject({ created: false, entity: { id: survivor.id } });
    expect((await api.entities.neighbours({ id: merged.id })).items.map((item) => item.entity.id).sort()).toEqual(
      [c.id, d.id].sort(),
    );
    expect(await codeOf(api.entities.merge({ survivorId: survivor.id, mergedId: merged.id }))).toBe('CONFLICT');
    expect(await codeOf(api.entities.merge({ survivorId: survivor.id, mergedId: survivor.id }))).toBe('BAD_REQUEST');
  });
});
