import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTENT_LIMITS } from '@threadstore/contract';
import { ChatSessionSchema } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { actorFor, createTestUser } from '../testing/index.ts';
import { appendMessage, appendMessages, appendStatement } from './append.ts';
import { prepareMessage } from './prepare.ts';
import { messageHistory } from './history.ts';

const LIMITS = DEFAULT_CONTENT_LIMITS;

describe('appendMessage inside a caller’s transaction', () => {
  const testDb = useTestDatabase();

  it('answers a replayed key with the stored message and leaves the transaction usable', async () => {
    const em = testDb.orm.em.fork();
    const { userId, principal } = await createTestUser(em);
    const session = em.create(ChatSessionSchema, { user: userId });
    await em.flush();
    const actor = actorFor(principal);
    const message = { sessionId: session.id, role: 'user' as const, content: 'once', clientMessageId: 'k' };

    const [first, replay, next] = await em.transactional(async (tx) => [
      await appendMessage(tx, actor, message, DEFAULT_CONTENT_LIMITS),
      // This one's statement fails on the unique key; only its savepoint is rolled back.
      await appendMessage(tx, actor, message, DEFAULT_CONTENT_LIMITS),
      await appendMessage(tx, actor, { ...message, content: 'next', clientMessageId: 'l' }, DEFAULT_CONTENT_LIMITS),
    ]);

    expect(replay).toEqual(first);
    expect(next.seq).toBe(2);
    const page = await messageHistory(
      testDb.orm.em.fork(),
      { userId },
      { sessionId: session.id },
      DEFAULT_CONTENT_LIMITS,
    );
    expect(page.items.map(({ seq, content }) => [seq, content])).toEqual([
      [1, 'once'],
      [2, 'next'],
    ]);
  });

  it('rolls back with the caller’s transaction: no message, no seq used', async () => {
    const em = testDb.orm.em.fork();
    const { userId, principal } = await createTestUser(em);
    const session = em.create(ChatSessionSchema, { user: userId });
    await em.flush();

    await expect(
      em.transactional(async (tx) => {
        await appendMessage(
          tx,
          actorFor(principal),
          { sessionId: session.id, role: 'user', content: 'doomed' },
          DEFAULT_CONTENT_LIMITS,
        );
        throw new Error('the caller changes its mind');
      }),
    ).rejects.toThrow('the caller changes its mind');

    const fresh = testDb.orm.em.fork();
    expect(await fresh.findOneOrFail(ChatSessionSchema, session.id)).toMatchObject({ lastSeq: 0, messageCount: 0 });
    expect(await messageHistory(fresh, { userId }, { sessionId: session.id }, DEFAULT_CONTENT_LIMITS)).toMatchObject({
      items: [],
    });
  });
});

describe('the session row an append updates', () => {
  const testDb = useTestDatabase();

  it('is updated HOT (no new index entries) while its activity is under a minute old, and moves it on after', async () => {
    const em = testDb.orm.em.fork();
    const { userId, principal } = await createTestUser(em);
    const session = em.create(ChatSessionSchema, { user: userId });
    await em.flush();
    const actor = actorFor(principal);
    const append = (tx: typeof em, content: string) =>
      appendMessage(tx, actor, { sessionId: session.id, role: 'user', content }, DEFAULT_CONTENT_LIMITS);
    const activityOf = async (tx: typeof em) =>
      (
        await tx.execute<{ at: string }[]>(`select last_activity_at::text as at from chat_sessions where id = ?`, [
          session.id,
        ])
      )[0]!.at;

    const counts = await em.transactional(async (tx) => {
      // This transaction's own counts, which PostgreSQL keeps up to date as it goes.
      const hotUpdates = async () =>
        Number(
          (
            await tx.execute<{ n: string }[]>(
              `select pg_stat_get_xact_tuples_hot_updated('chat_sessions'::regclass) as n`,
            )
          )[0]!.n,
        );
      const before = await activityOf(tx);
      const hotBefore = await hotUpdates();
      for (let i = 0; i < 5; i += 1) await append(tx, `message ${i}`);
      return { before, after: await activityOf(tx), hot: (await hotUpdates()) - hotBefore };
    });
    expect(counts.after).toBe(counts.before);
    expect(counts.hot).toBe(5);

    // An hour of silence later, the next append marks the session active now.
    await em.execute(`update chat_sessions set last_activity_at = now() - interval '1 hour' where id = ?`, [
      session.id,
    ]);
    const stale = await activityOf(em);
    await append(em.fork(), 'back again');
    const fresh = await activityOf(em);
    expect(Date.parse(fresh)).toBeGreaterThan(Date.parse(stale) + 50 * 60_000);
  });
});

describe('the append statement’s plan', () => {
  const testDb = useTestDatabase();

  // A named prepared statement is planned on every execution unless PostgreSQL keeps its generic
  // plan (from the sixth execution on, when that plan is costed no higher than the custom ones).
  it('is kept generic for appends without a parent and with one: the server does not plan each append', async () => {
    const em = testDb.orm.em.fork();
    const { userId, principal } = await createTestUser(em);
    const session = em.create(ChatSessionSchema, { user: userId });
    await em.flush();
    const actor = actorFor(principal);
    const root = await appendMessage(em, actor, { sessionId: session.id, role: 'user', content: 'root' }, LIMITS);
    const pool = await em.getConnection().getNativeClient();
    const client = await pool.connect();
    try {
      const plans = async (parentId: string | null) => {
        const name = `append_plan_test_${parentId === null ? 'none' : 'one'}`;
        for (let i = 0; i < 8; i += 1) {
          const message = prepareMessage({ role: 'assistant', content: `reply ${i}`, parentId }, LIMITS);
          const { text, values } = appendStatement(actor, 'messages.append', session.id, [message], { quiet: true });
          expect((await client.query({ name, text, values })).rowCount).toBe(1);
        }
        const { rows } = await client.query<{ generic: string; custom: string }>(
          `select generic_plans as generic, custom_plans as custom from pg_prepared_statements where name = $1`,
          [name],
        );
        return { generic: Number(rows[0]!.generic), custom: Number(rows[0]!.custom) };
      };
      // Five custom plans to compare with, then the generic one, for good.
      expect(await plans(null)).toEqual({ generic: 3, custom: 5 });
      expect(await plans(root.id)).toEqual({ generic: 3, custom: 5 });
    } finally {
      client.release();
    }
  });

  it('calls neither of the session’s trigger functions for a quiet append, and still moves updated_at', async () => {
    const em = testDb.orm.em.fork();
    const { userId, principal } = await createTestUser(em);
    const session = em.create(ChatSessionSchema, { user: userId });
    await em.flush();
    const actor = actorFor(principal);
    const pool = await em.getConnection().getNativeClient();
    const client = await pool.connect();
    try {
      await client.query(`set track_functions = 'pl'`);
      const calls = async () => {
        // Function counts reach the shared statistics when the backend next goes idle.
        await client.query('select pg_stat_force_next_flush()');
        await client.query('select pg_stat_clear_snapshot()');
        const { rows } = await client.query<{ funcname: string; calls: string }>(
          `select funcname, calls from pg_stat_user_functions
            where funcname in ('chat_sessions_touch_updated_at_fn', 'chat_sessions_announce_change_fn')`,
        );
        return Object.fromEntries(rows.map(({ funcname, calls }) => [funcname, Number(calls)]));
      };
      const updatedAt = async () =>
        Number(
          (
            await client.query<{ at: string }>(
              'select extract(epoch from updated_at)::float8 as at from chat_sessions where id = $1',
              [session.id],
            )
          ).rows[0]!.at,
        );
      const before = { calls: await calls(), updatedAt: await updatedAt() };
      const message = prepareMessage({ role: 'user', content: 'quiet' }, LIMITS);
      const { text, values } = appendStatement(actor, 'messages.append', session.id, [message], { quiet: true });
      expect((await client.query(text, values)).rowCount).toBe(1);
      expect(await calls()).toEqual(before.calls);
      expect(await updatedAt()).toBeGreaterThan(before.updatedAt);

      // The control: an UPDATE that leaves updated_at alone, not quiet, calls both.
      await client.query('update chat_sessions set title = $2 where id = $1', [session.id, 'renamed']);
      const after = await calls();
      for (const name of ['chat_sessions_touch_updated_at_fn', 'chat_sessions_announce_change_fn']) {
        expect(after[name]).toBe((before.calls[name] ?? 0) + 1);
      }
    } finally {
      client.release();
    }
  });

  it('still checks several distinct parents of a batch: all visible stores it, one not visible stores nothing', async () => {
    const em = testDb.orm.em.fork();
    const { userId, principal } = await createTestUser(em);
    const session = em.create(ChatSessionSchema, { user: userId });
    await em.flush();
    const actor = actorFor(principal);
    const [a, b] = await appendMessages(
      em,
      actor,
      {
        sessionId: session.id,
        messages: [
          { role: 'user', content: 'a' },
          { role: 'user', content: 'b' },
        ],
      },
      LIMITS,
    );
    const replies = (parents: string[]) =>
      appendMessages(
        em.fork(),
        actor,
        { sessionId: session.id, messages: parents.map((parentId) => ({ role: 'assistant', content: 'r', parentId })) },
        LIMITS,
      );

    expect((await replies([a!.id, b!.id, a!.id])).map(({ seq, parentId }) => [seq, parentId])).toEqual([
      [3, a!.id],
      [4, b!.id],
      [5, a!.id],
    ]);
    await expect(replies([a!.id, randomUUID()])).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      details: { field: 'messages[1].parentId' },
    });
    expect(await em.fork().findOneOrFail(ChatSessionSchema, session.id)).toMatchObject({ lastSeq: 5, messageCount: 5 });
  });
});
