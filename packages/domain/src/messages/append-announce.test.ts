import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONTENT_LIMITS } from '@threadstore/contract';
import { CHANGES_CHANNEL, ChatSessionSchema } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { actorFor, createTestUser } from '../testing/index.ts';
import { appendMessage, appendMessages, appendStatement, type AnnounceChange } from './append.ts';
import { prepareMessage } from './prepare.ts';

/**
 * A quiet append (one given `announce`) leaves the NOTIFY to its caller, after the commit: a
 * notifying commit holds PostgreSQL's cluster-wide notify lock until its WAL is flushed.
 */
describe('appending with an announcer', () => {
  const testDb = useTestDatabase();

  /** A connection of its own, taken out of the ORM's pool (closed, not returned, by `release(true)`). */
  async function connection() {
    const pool = await testDb.orm.em.getConnection().getNativeClient();
    return pool.connect();
  }

  /** A LISTEN connection collecting the session ids announced on the changes channel. */
  async function listen(): Promise<{
    announced: string[];
    until(sessionId: string): Promise<void>;
    end(): Promise<void>;
  }> {
    const client = await connection();
    const announced: string[] = [];
    const waiters: (() => void)[] = [];
    client.on('notification', ({ payload }) => {
      announced.push((JSON.parse(payload ?? '{}') as { s: string }).s);
      for (const waiter of waiters.splice(0)) waiter();
    });
    await client.query(`listen ${CHANGES_CHANNEL}`);
    return {
      announced,
      until: async (sessionId) => {
        const deadline = Date.now() + 10_000;
        while (!announced.includes(sessionId)) {
          if (Date.now() > deadline) throw new Error(`no notice for ${sessionId}`);
          await new Promise<void>((resolve) => {
            waiters.push(resolve);
            setTimeout(resolve, 100);
          });
        }
      },
      end: async () => client.release(true),
    };
  }

  async function twoSessions() {
    const em = testDb.orm.em.fork();
    const { userId, principal } = await createTestUser(em);
    const quiet = em.create(ChatSessionSchema, { user: userId });
    const loud = em.create(ChatSessionSchema, { user: userId });
    await em.flush();
    return { userId, actor: actorFor(principal), quiet: quiet.id, loud: loud.id };
  }

  it('does not NOTIFY in its statement and calls the announcer once committed; a plain append still notifies', async () => {
    const { userId, actor, quiet, loud } = await twoSessions();
    const listener = await listen();
    try {
      const announce = vi.fn<AnnounceChange>();
      const stored = await appendMessage(
        testDb.orm.em.fork(),
        actor,
        { sessionId: quiet, role: 'user', content: 'quiet' },
        DEFAULT_CONTENT_LIMITS,
        { announce },
      );
      expect(stored.seq).toBe(1);
      expect(announce).toHaveBeenCalledExactlyOnceWith({ sessionId: quiet, owner: { userId } });
      // Committed when the announcer ran: another connection sees it.
      expect(await testDb.orm.em.fork().findOneOrFail(ChatSessionSchema, quiet)).toMatchObject({ lastSeq: 1 });

      await appendMessages(
        testDb.orm.em.fork(),
        actor,
        { sessionId: loud, messages: [{ role: 'user', content: 'loud' }] },
        DEFAULT_CONTENT_LIMITS,
      );
      // Notifications arrive in commit order: once the later append's is in, the quiet one's
      // would have been too.
      await listener.until(loud);
      expect(listener.announced).toEqual([loud]);
    } finally {
      await listener.end();
    }
  });

  it('announces a batch once, and nothing for a session that is not the actor’s', async () => {
    const { actor, quiet } = await twoSessions();
    const stranger = await createTestUser(testDb.orm.em.fork());
    const announce = vi.fn<AnnounceChange>();
    await appendMessages(
      testDb.orm.em.fork(),
      actor,
      {
        sessionId: quiet,
        messages: [
          { role: 'user', content: 'one' },
          { role: 'assistant', content: 'two' },
        ],
      },
      DEFAULT_CONTENT_LIMITS,
      { announce },
    );
    expect(announce).toHaveBeenCalledTimes(1);

    await expect(
      appendMessage(
        testDb.orm.em.fork(),
        actorFor(stranger.principal),
        { sessionId: quiet, role: 'user', content: 'not mine' },
        DEFAULT_CONTENT_LIMITS,
        { announce },
      ),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(announce).toHaveBeenCalledTimes(1);
  });

  it('inside a caller’s transaction leaves the announcement to the trigger, at the commit', async () => {
    const { actor, quiet } = await twoSessions();
    const listener = await listen();
    try {
      const announce = vi.fn<AnnounceChange>();
      await testDb.orm.em.fork().transactional((tx) =>
        appendMessage(tx, actor, { sessionId: quiet, role: 'user', content: 'in a tx' }, DEFAULT_CONTENT_LIMITS, {
          announce,
        }),
      );
      expect(announce).not.toHaveBeenCalled();
      await listener.until(quiet);
    } finally {
      await listener.end();
    }
  });

  it('keeps the trigger quiet for its own transaction only, not for the connection’s next one', async () => {
    const { actor, quiet } = await twoSessions();
    const client = await connection();
    const listener = await listen();
    try {
      const message = prepareMessage({ role: 'user', content: 'raw' }, DEFAULT_CONTENT_LIMITS, (name) => name, null);
      const statement = appendStatement(actor, 'messages.append', quiet, [message], { quiet: true });
      expect((await client.query(statement.text, statement.values)).rows).toHaveLength(1);
      const { rows } = await client.query<{ value: string | null }>(
        `select current_setting('threadstore.announce', true) as value`,
      );
      expect(rows[0]!.value ?? '').toBe('');
      // The same connection's next change to the session is announced by the trigger again.
      await client.query(`update chat_sessions set title = 'renamed' where id = $1`, [quiet]);
      await listener.until(quiet);
      expect(listener.announced).toEqual([quiet]);
    } finally {
      await listener.end();
      client.release(true);
    }
  });
});
