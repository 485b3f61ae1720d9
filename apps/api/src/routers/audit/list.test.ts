import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import { anonymousPrincipal, createTestUser } from '@threadstore/domain/testing';
import { callerAs } from '../../testing/caller.ts';

describe('audit.list', () => {
  const testDb = useTestDatabase();

  async function userWithTrail(sessions: number) {
    const { userId, principal } = await createTestUser(testDb.orm.em.fork());
    const caller = callerAs(testDb.orm, principal);
    for (let i = 0; i < sessions; i += 1) await caller.sessions.create({ title: `s${i}` });
    const { apiKey } = await caller.apiKeys.create({ name: 'agent', scopes: ['read', 'write'] });
    return { userId, principal, caller, apiKeyId: apiKey.id };
  }

  it("shows the caller's own trail (their API keys' included), newest first, in keyset pages", async () => {
    const me = await userWithTrail(5);
    const other = await userWithTrail(3);
    await callerAs(testDb.orm, {
      kind: 'apiKey',
      userId: me.userId,
      role: 'user',
      apiKeyId: me.apiKeyId,
      scopes: ['read', 'write'],
    }).sessions.create({ title: 'by the agent' });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await me.caller.audit.list({ limit: 2, ...(cursor === undefined ? {} : { cursor }) });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((item) => `${item.action}:${item.actorId}`));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    expect(seen).toEqual([
      `sessions.create:${me.apiKeyId}`,
      `apiKeys.create:${me.userId}`,
      ...Array.from({ length: 5 }, () => `sessions.create:${me.userId}`),
    ]);
    expect(seen.join()).not.toContain(other.userId);

    const filtered = await me.caller.audit.list({ action: 'apiKeys.' });
    expect(filtered.items.map((item) => item.action)).toEqual(['apiKeys.create']);
    const none = await me.caller.audit.list({ since: new Date(Date.now() + 60_000).toISOString() });
    expect(none.items).toEqual([]);
  });

  it("refuses everyone's trail to non-admins and bad cursors, and shows it to admins", async () => {
    const me = await userWithTrail(1);
    await expect(me.caller.audit.list({ scope: 'all' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(me.caller.audit.list({ actorId: me.userId })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(me.caller.audit.list({ cursor: 'bm9wZQ' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(callerAs(testDb.orm, anonymousPrincipal()).audit.list({ scope: 'all' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    const anonymous = anonymousPrincipal();
    await callerAs(testDb.orm, anonymous).sessions.create({ title: 'anon' });
    const anonymousTrail = await callerAs(testDb.orm, anonymous).audit.list({});
    expect(anonymousTrail.items.map((item) => [item.actorType, item.actorId])).toEqual([
      ['anonymous', anonymous.anonymousId],
    ]);

    const admin = await createTestUser(testDb.orm.em.fork(), { role: 'admin' });
    const everyone = await callerAs(testDb.orm, admin.principal).audit.list({ scope: 'all', actorId: me.userId });
    expect(everyone.items.map((item) => item.action)).toEqual(['apiKeys.create', 'sessions.create']);
  });
});
