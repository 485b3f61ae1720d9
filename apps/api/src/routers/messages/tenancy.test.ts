import { beforeAll, describe, expect, it } from 'vitest';
import type { TMessage } from '@threadstore/contract';
import { uuidv7 } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { drainSearchQueue, type Principal } from '@threadstore/domain';
import { anonymousPrincipal } from '@threadstore/domain/testing';
import { callerAs } from '../../testing/caller.ts';
import { createSession, sessionCounters, signedInUser, storedMessages, type SessionCounters } from './testing.ts';

type Api = ReturnType<typeof callerAs>;

/** Every messages procedure, aimed at a session id and a message id (and a key) that may not be the caller's. */
const procedures: Record<string, (api: Api, target: { sessionId: string; messageId: string }) => Promise<unknown>> = {
  append: (api, { sessionId }) => api.messages.append({ sessionId, role: 'user', content: 'intrusion' }),
  'append with the owner’s idempotency key': (api, { sessionId }) =>
    api.messages.append({ sessionId, role: 'user', content: 'intrusion', clientMessageId: 'owner-key' }),
  appendMany: (api, { sessionId }) =>
    api.messages.appendMany({ sessionId, messages: [{ role: 'user', content: 'intrusion' }] }),
  history: (api, { sessionId }) => api.messages.history({ sessionId }),
  'history after 0': (api, { sessionId }) => api.messages.history({ sessionId, after: 0 }),
  get: (api, { messageId }) => api.messages.get({ id: messageId }),
  thread: (api, { messageId }) => api.messages.thread({ id: messageId }),
  delete: (api, { messageId }) => api.messages.delete({ id: messageId }),
  clear: (api, { sessionId }) => api.messages.clear({ sessionId }),
  'search within a session': (api, { sessionId }) => api.messages.search({ query: 'private', sessionId }),
};

describe('messages across tenants', () => {
  const testDb = useTestDatabase();
  const owners: Record<string, Principal> = {};
  const targets: Record<string, { sessionId: string; messageId: string; messages: TMessage[] }> = {};
  const before: Record<string, SessionCounters> = {};

  beforeAll(async () => {
    owners['a user'] = await signedInUser(testDb.orm);
    owners['an anonymous visitor'] = anonymousPrincipal();
    for (const [name, owner] of Object.entries(owners)) {
      const sessionId = await createSession(testDb.orm, owner);
      const { items } = await callerAs(testDb.orm, owner).messages.appendMany({
        sessionId,
        messages: [
          { role: 'user', content: 'private question', clientMessageId: 'owner-key' },
          { role: 'assistant', content: 'private answer' },
        ],
      });
      targets[name] = { sessionId, messageId: items[1]!.id, messages: items };
      before[name] = await sessionCounters(testDb.orm, sessionId);
    }
    await drainSearchQueue(testDb.orm.em.fork(), { batchSize: 100 });
  });

  async function intruders(): Promise<Record<string, Principal>> {
    const other = await signedInUser(testDb.orm);
    return {
      'another user': other,
      'another user’s API key': {
        kind: 'apiKey',
        userId: other.kind === 'user' ? other.userId : '',
        role: 'user',
        apiKeyId: uuidv7(),
        scopes: ['read', 'write'],
      },
      'another anonymous visitor': anonymousPrincipal(),
    };
  }

  for (const ownerName of ['a user', 'an anonymous visitor']) {
    for (const [procedure, call] of Object.entries(procedures)) {
      it(`${procedure}: the ids of ${ownerName} are NOT_FOUND to everyone else, exactly like ids that do not exist`, async () => {
        const target = targets[ownerName]!;
        for (const [intruderName, intruder] of Object.entries(await intruders())) {
          const api = callerAs(testDb.orm, intruder);
          const foreign = await call(api, target).then(
            () => 'succeeded',
            (error: unknown) => error,
          );
          const missing = await call(api, { sessionId: uuidv7(), messageId: uuidv7() }).then(
            () => 'succeeded',
            (error: unknown) => error,
          );
          expect(foreign, intruderName).toMatchObject({ code: 'NOT_FOUND' });
          expect((foreign as Error).message, intruderName).toBe((missing as Error).message);
        }
        // Nothing of the owner's changed.
        expect(await sessionCounters(testDb.orm, target.sessionId)).toEqual(before[ownerName]);
        expect(await storedMessages(testDb.orm, target.sessionId)).toEqual(
          target.messages.map((message) => expect.objectContaining({ id: message.id, deleted: false })),
        );
      });
    }
  }

  it('refuses another tenant’s message as a parent exactly as a message that does not exist', async () => {
    const intruder = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, intruder);
    const api = callerAs(testDb.orm, intruder);
    const answer = (parentId: string) =>
      api.messages.append({ sessionId, role: 'user', content: 'x', parentId }).catch((error: unknown) => error);
    const foreign = await answer(targets['a user']!.messageId);
    const missing = await answer(uuidv7());
    expect(foreign).toMatchObject({
      code: 'BAD_REQUEST',
      message: 'parentId must be a visible message of the same session',
    });
    expect((foreign as Error).message).toBe((missing as Error).message);
  });

  it('never shows another tenant’s messages in a search across all sessions', async () => {
    for (const [intruderName, intruder] of Object.entries(await intruders())) {
      const { items } = await callerAs(testDb.orm, intruder).messages.search({ query: 'private OR question' });
      expect(items, intruderName).toEqual([]);
    }
  });

  it('lets the owner still read everything afterwards', async () => {
    for (const [name, owner] of Object.entries(owners)) {
      const page = await callerAs(testDb.orm, owner).messages.history({ sessionId: targets[name]!.sessionId });
      expect(page.items).toEqual(targets[name]!.messages);
      const found = await callerAs(testDb.orm, owner).messages.search({ query: 'private' });
      expect(found.items.map((hit) => hit.message)).toEqual(expect.arrayContaining(targets[name]!.messages));
    }
  });
});
