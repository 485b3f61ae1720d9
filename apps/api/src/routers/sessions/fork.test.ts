import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import { FORK_COPIED_COLUMNS } from '@threadstore/domain';
import { anonymousPrincipal } from '@threadstore/domain/testing';
import { callerAs } from '../../testing/caller.ts';
import { auditRows, createSession, sessionCounters, signedInUser, storedMessages } from '../messages/testing.ts';

describe('sessions.fork', () => {
  const testDb = useTestDatabase();

  /** A branched conversation: q1 → a1 → q2 → a2, and a retry of a2 (a2b) answering q2 too. */
  async function branched(api: ReturnType<typeof callerAs>, sessionId: string) {
    const q1 = await api.messages.append({ sessionId, role: 'user', content: 'q1', clientMessageId: 'c-q1' });
    const a1 = await api.messages.append({
      sessionId,
      role: 'assistant',
      content: 'a1',
      parentId: q1.id,
      model: 'model-a',
      metadata: { kept: true },
      cost: '0.25',
    });
    const q2 = await api.messages.append({ sessionId, role: 'user', content: 'q2', parentId: a1.id });
    const a2 = await api.messages.append({ sessionId, role: 'assistant', content: 'a2', parentId: q2.id });
    const a2b = await api.messages.append({ sessionId, role: 'assistant', content: 'a2b', parentId: q2.id });
    return { q1, a1, q2, a2, a2b };
  }

  it('copies the visible history up to a message, in order, with new ids and seqs, mapped parents and provenance', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user, { requestId: 'fork-1' });
    const { q1, a1, q2, a2 } = await branched(api, sessionId);
    await api.messages.delete({ id: a1.id });

    const { session, copied, created } = await api.sessions.fork({ sessionId, messageId: a2.id, title: 'forked' });

    expect({ copied, created }).toEqual({ copied: 3, created: true });
    expect(session).toMatchObject({ title: 'forked', messageCount: 3, lastSeq: 3, forkedFromMessageId: a2.id });
    const copies = (await api.messages.history({ sessionId: session.id })).items;
    expect(copies.map((m) => [m.seq, m.content, m.forkedFromId])).toEqual([
      [1, 'q1', q1.id],
      [2, 'q2', q2.id],
      [3, 'a2', a2.id],
    ]);
    expect(copies.map((m) => m.id)).not.toContain(q1.id);
    // q2's parent (a1) was deleted and not copied; a2 answers the copy of q2.
    expect(copies.map((m) => m.parentId)).toEqual([null, null, copies[1]!.id]);
    expect(copies[0]!.clientMessageId).toBe('c-q1');
    // The source is untouched.
    expect(await sessionCounters(testDb.orm, sessionId)).toMatchObject({ lastSeq: 5, messageCount: 4 });
    const [audit] = await auditRows(testDb.orm, 'sessions.fork');
    expect(audit).toMatchObject({
      subjectId: session.id,
      requestId: 'fork-1',
      details: { sourceSessionId: sessionId, messageId: a2.id, path: 'history', copied: 3 },
    });
    // The copies go to the search indexer like appended messages.
    const [queued] = await testDb.orm.em
      .fork()
      .execute<{ n: string }[]>(
        'select count(*) as n from chat_message_search_queue q join chat_messages m on m.id = q.message_id where m.session_id = ?',
        [session.id],
      );
    expect(Number(queued!.n)).toBe(3);
  });

  it('copies every column it lists, and appends continue after the copies', async () => {
    const user = anonymousPrincipal();
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user);
    const { a1 } = await branched(api, sessionId);

    const { session } = await api.sessions.fork({ sessionId });

    const columns = FORK_COPIED_COLUMNS.join(', ');
    const rows = (sql: string) => testDb.orm.em.fork().execute<Record<string, unknown>[]>(sql, []);
    const source = await rows(`select ${columns} from chat_messages where session_id = '${sessionId}' order by seq`);
    const copy = await rows(`select ${columns} from chat_messages where session_id = '${session.id}' order by seq`);
    expect(copy).toEqual(source);
    expect(copy).toHaveLength(5);
    expect(session.forkedFromMessageId).not.toBeNull();
    expect((await api.messages.append({ sessionId: session.id, role: 'user', content: 'next' })).seq).toBe(6);
    expect(source[1]).toMatchObject({ model: 'model-a', metadata: { kept: true }, cost: a1.cost });
  });

  it("follows one branch through parentId with path 'branch'", async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user);
    const { q1, a1, q2, a2b } = await branched(api, sessionId);

    const { session, copied } = await api.sessions.fork({ sessionId, messageId: a2b.id, path: 'branch' });

    expect(copied).toBe(4);
    const copies = (await api.messages.history({ sessionId: session.id })).items;
    expect(copies.map((m) => [m.seq, m.content, m.forkedFromId])).toEqual([
      [1, 'q1', q1.id],
      [2, 'a1', a1.id],
      [3, 'q2', q2.id],
      [4, 'a2b', a2b.id],
    ]);
    expect(copies.map((m) => m.parentId)).toEqual([null, copies[0]!.id, copies[1]!.id, copies[2]!.id]);
  });

  it('is idempotent by clientKey, and refuses the key for another fork', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user);
    const { a1, q2 } = await branched(api, sessionId);

    const forks = await Promise.all(
      Array.from({ length: 4 }, () =>
        callerAs(testDb.orm, user).sessions.fork({ sessionId, messageId: q2.id, clientKey: 'fork-key' }),
      ),
    );
    expect(new Set(forks.map((f) => f.session.id)).size).toBe(1);
    expect(forks.filter((f) => f.created)).toHaveLength(1);
    expect(forks.map((f) => f.copied)).toEqual([3, 3, 3, 3]);
    expect(
      (await auditRows(testDb.orm, 'sessions.fork')).filter((row) => row.subjectId === forks[0]!.session.id),
    ).toHaveLength(1);
    await expect(api.sessions.fork({ sessionId, messageId: a1.id, clientKey: 'fork-key' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });

  it('answers NOT_FOUND for a deleted message or session, and BAD_REQUEST for a branch without a message', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user);
    const { a1 } = await branched(api, sessionId);
    await api.messages.delete({ id: a1.id });

    await expect(api.sessions.fork({ sessionId, messageId: a1.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(api.sessions.fork({ sessionId, path: 'branch' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await api.sessions.delete({ id: sessionId });
    await expect(api.sessions.fork({ sessionId })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // Nothing was half-written.
    expect((await api.sessions.list({})).items).toEqual([]);
  });

  it('forks a 100,000-message session completely and in order', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const em = testDb.orm.em.fork();
    // Ids derived from the seq (an MD5 with the UUID version and variant set), so each message can
    // answer the one before it in the same insert.
    const idOf = (seq: string) =>
      `overlay(overlay(md5(?::text || ${seq}) placing '4' from 13) placing '8' from 17)::uuid`;
    await em.execute(
      `insert into chat_messages (id, session_id, seq, role, content, parent_id)
       select ${idOf('g')}, ?, g, case when g % 2 = 1 then 'user' else 'assistant' end, 'message ' || g,
              case when g > 1 then ${idOf('(g - 1)')} end
         from generate_series(1, 100000) g`,
      [sessionId, sessionId, sessionId],
    );
    await em.execute('update chat_sessions set last_seq = 100000, message_count = 100000 where id = ?', [sessionId]);
    await em.execute(`update chat_messages set deleted_at = now() where session_id = ? and seq = 500`, [sessionId]);

    // How long it takes is the benchmark's business (bench/conversation): on a shared machine a
    // time limit here would fail for the load, not for the code.
    const { session, copied } = await callerAs(testDb.orm, user).sessions.fork({ sessionId });

    expect(copied).toBe(99_999);
    expect(session).toMatchObject({ lastSeq: 99_999, messageCount: 99_999 });
    const [check] = await em.execute<
      { n: string; ordered: boolean; provenance: boolean; parents_ok: string; min_seq: string; max_seq: string }[]
    >(
      `select count(*) as n, min(c.seq) as min_seq, max(c.seq) as max_seq,
              bool_and(c.content = s.content and c.role = s.role) as provenance,
              bool_and(c.seq = (s.seq - case when s.seq > 500 then 1 else 0 end)) as ordered,
              count(*) filter (where (c.parent_id is null) = (s.seq in (1, 501))) as parents_ok
         from chat_messages c join chat_messages s on s.id = c.forked_from_id
        where c.session_id = ?`,
      [session.id],
    );
    expect(check).toEqual({
      n: '99999',
      min_seq: '1',
      max_seq: '99999',
      ordered: true,
      provenance: true,
      parents_ok: '99999',
    });
    expect((await storedMessages(testDb.orm, session.id)).at(-1)).toMatchObject({
      seq: 99_999,
      content: 'message 100000',
    });
  }, 120_000);
});
