import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONTENT_LIMITS, type TSession } from '@threadstore/contract';
import { ProjectSchema } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import type { Principal } from '@threadstore/domain';
import { anonymousPrincipal, createTestUser } from '@threadstore/domain/testing';
import { callerAs } from '../../testing/caller.ts';

const testDb = useTestDatabase();

type Api = ReturnType<typeof callerAs>;
type ListInput = NonNullable<Parameters<Api['sessions']['list']>[0]>;

/** Every page of a listing, following nextCursor to the end. */
async function walk(api: Api, input: ListInput): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await api.sessions.list({ ...input, cursor });
    pages++;
    ids.push(...page.items.map((s) => s.id));
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return { ids, pages };
}

/** The owner's session ids in a listing's order, straight from the table. */
async function expectedOrder(
  ownerColumn: 'user_id' | 'anonymous_id',
  ownerId: string,
  sortColumn: 'last_activity_at' | 'created_at',
  where = 'deleted_at is null and archived_at is null',
): Promise<string[]> {
  const rows = await testDb.orm.em
    .fork()
    .execute<{ id: string }[]>(
      `select id from chat_sessions where ${ownerColumn} = ? and ${where} order by ${sortColumn} desc, id desc`,
      [ownerId],
    );
  return rows.map((row) => row.id);
}

describe('sessions.list', () => {
  let principal: Principal;
  let userId: string;
  let projectId: string;
  let sessions: TSession[];

  beforeAll(async () => {
    ({ principal, userId } = await createTestUser(testDb.orm.em.fork()));
    const em = testDb.orm.em.fork();
    const project = em.create(ProjectSchema, { owner: userId, name: 'listing' });
    await em.flush();
    projectId = project.id;
    const api = callerAs(testDb.orm, principal);
    sessions = [];
    for (let i = 0; i < 23; i++) {
      sessions.push(
        await api.sessions.create({
          title: i % 3 === 0 ? `Budget_review ${i}` : `Session ${i}`,
          ...(i % 4 === 0 ? { projectId } : {}),
        }),
      );
    }
    // Activity out of creation order, at microsecond precision (as SQL's now() writes it), with
    // ties that only the id breaks.
    await testDb.orm.em.fork().execute(
      `update chat_sessions set last_activity_at = timestamptz '2026-01-01 00:00:00.000001+00'
         + ((hashtext(id::text) & 7) * interval '1 microsecond')
       where user_id = ?`,
      [userId],
    );
    for (const i of [1, 5, 9]) await api.sessions.start({ id: sessions[i]!.id });
    for (const i of [2, 6]) await api.sessions.archive({ id: sessions[i]!.id });
    await api.sessions.delete({ id: sessions[7]!.id });
  });

  it('walks every live, unarchived session exactly once, newest activity first, page by page', async () => {
    const api = callerAs(testDb.orm, principal);
    const { ids, pages } = await walk(api, { limit: 4 });
    expect(ids).toEqual(await expectedOrder('user_id', userId, 'last_activity_at'));
    expect(ids).toHaveLength(20);
    expect(pages).toBe(5);
  });

  it('walks by creation time too', async () => {
    const api = callerAs(testDb.orm, principal);
    const { ids } = await walk(api, { orderBy: 'created', limit: 6 });
    expect(ids).toEqual(await expectedOrder('user_id', userId, 'created_at'));
    expect(ids).toEqual(
      sessions
        .filter((_, i) => ![2, 6, 7].includes(i))
        .map((s) => s.id)
        .reverse(),
    );
  });

  it('filters by status, project, archived, the bin and title, keeping the order and the paging', async () => {
    const api = callerAs(testDb.orm, principal);
    const running = [1, 5, 9].map((i) => sessions[i]!.id);
    expect((await walk(api, { status: 'running', limit: 2 })).ids.sort()).toEqual([...running].sort());
    expect((await walk(api, { status: ['running', 'created'], limit: 7 })).ids).toEqual(
      await expectedOrder('user_id', userId, 'last_activity_at'),
    );
    expect((await walk(api, { projectId, orderBy: 'created', limit: 2 })).ids).toEqual(
      [0, 4, 8, 12, 16, 20].map((i) => sessions[i]!.id).reverse(),
    );
    expect((await walk(api, { archived: true, orderBy: 'created' })).ids).toEqual([sessions[6]!.id, sessions[2]!.id]);
    expect((await walk(api, { archived: 'all', limit: 5 })).ids).toEqual(
      await expectedOrder('user_id', userId, 'last_activity_at', 'deleted_at is null'),
    );
    expect((await walk(api, { deleted: true })).ids).toEqual([sessions[7]!.id]);
    expect((await walk(api, { titleContains: 'budget_REVIEW', orderBy: 'created', limit: 3 })).ids).toEqual(
      [0, 3, 9, 12, 15, 18, 21].map((i) => sessions[i]!.id).reverse(),
    );
  });

  it('treats % and _ in a title search as literal characters', async () => {
    const api = callerAs(testDb.orm, anonymousPrincipal());
    const literal = await api.sessions.create({ title: '100% done_now' });
    await api.sessions.create({ title: '1000 done now' });
    expect((await api.sessions.list({ titleContains: '100%' })).items.map((s) => s.id)).toEqual([literal.id]);
    expect((await api.sessions.list({ titleContains: 'e_n' })).items.map((s) => s.id)).toEqual([literal.id]);
    expect((await api.sessions.list({ titleContains: '%' })).items.map((s) => s.id)).toEqual([literal.id]);
  });

  it('answers a page size over maxPageSize with BAD_REQUEST naming the limit, and uses the default otherwise', async () => {
    const limits = { ...DEFAULT_CONTENT_LIMITS, defaultPageSize: 3, maxPageSize: 5 };
    const api = callerAs(testDb.orm, principal, { limits });
    await expect(api.sessions.list({ limit: 6 })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      cause: { details: { limit: 'maxPageSize', max: 5 } },
    });
    const page = await api.sessions.list();
    expect(page.items).toHaveLength(3);
    expect(page.nextCursor).not.toBeNull();
  });

  it('ends with a null cursor when the last page is exactly full', async () => {
    const api = callerAs(testDb.orm, principal);
    const first = await api.sessions.list({ status: 'running', limit: 3 });
    expect(first.items).toHaveLength(3);
    expect(first.nextCursor).toBeNull();
  });

  it('refuses a cursor with other filters, another order, or edited, with BAD_REQUEST', async () => {
    const api = callerAs(testDb.orm, principal);
    const { nextCursor } = await api.sessions.list({ limit: 2 });
    const cursor = nextCursor!;
    await expect(api.sessions.list({ limit: 2, cursor, orderBy: 'created' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(api.sessions.list({ limit: 2, cursor, status: 'created' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    const body = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as { k: string; id: string };
    const edited = Buffer.from(JSON.stringify({ ...body, k: '2999-01-01T00:00:00.000000Z' })).toString('base64url');
    for (const bad of [edited, 'not-a-cursor', Buffer.from('{"k":1}').toString('base64url')]) {
      await expect(api.sessions.list({ cursor: bad })).rejects.toMatchObject({
        code: 'BAD_REQUEST',
        cause: { details: { field: 'cursor' } },
      });
    }
    // The same listing with another page size is still the same listing.
    expect((await api.sessions.list({ limit: 3, cursor })).items).toHaveLength(3);
  });

  it('serves an anonymous visitor’s listing the same way', async () => {
    const visitor = anonymousPrincipal();
    const api = callerAs(testDb.orm, visitor);
    for (let i = 0; i < 7; i++) await api.sessions.create({ title: `anon ${i}` });
    for (const orderBy of ['lastActivity', 'created'] as const) {
      const { ids } = await walk(api, { orderBy, limit: 2 });
      expect(ids).toEqual(
        await expectedOrder(
          'anonymous_id',
          visitor.anonymousId,
          orderBy === 'created' ? 'created_at' : 'last_activity_at',
        ),
      );
      expect(ids).toHaveLength(7);
    }
  });
});

describe('sessions.list items', () => {
  it('are each exactly what sessions.get answers for that session', async () => {
    const { principal, userId } = await createTestUser(testDb.orm.em.fork());
    const api = callerAs(testDb.orm, principal);
    const created = [];
    for (let i = 0; i < 5; i++) created.push(await api.sessions.create({ title: `Listed ${i}`, metadata: { i } }));
    const [plain, running, pinned, tagged, costly] = created.map((s) => s.id);
    await api.sessions.start({ id: running! });
    await api.sessions.pin({ id: pinned! });
    await api.sessions.tag({ id: tagged!, tags: ['Blue', 'green'] });
    await api.messages.append({ sessionId: costly!, role: 'user', content: 'hello' });
    // What the loop and agents write: a cost with decimals, a phase, a finish.
    await testDb.orm.em.fork().execute(
      `update chat_sessions set total_cost = 1.2500000000, phase = 'review', round_number = 3,
                finished_at = timestamptz '2026-02-03 04:05:06.789123+00'
          where id = ? and user_id = ?`,
      [costly, userId],
    );

    const listed = (await api.sessions.list({ limit: 10 })).items;
    expect(listed.map((s) => s.id).sort()).toEqual([plain, running, pinned, tagged, costly].sort());
    for (const item of listed) expect(item).toEqual(await api.sessions.get({ id: item.id }));
    expect(listed[0]!.id).toBe(pinned);
    expect(listed.find((s) => s.id === costly)).toMatchObject({ totalCost: '1.25', messageCount: 1, lastSeq: 1 });
  });
});
