import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import { drainSearchQueue } from '../messages/search-index.ts';
import { query } from '../messages/sql.ts';
import { rowsMentioning, seedAccount } from '../testing/index.ts';
import { eraseAccount, resumeStaleErasures, runErasure, startErasure } from './erase.ts';

describe('account erasure', () => {
  const testDb = useTestDatabase();

  /** Rows per public table, to show that someone else's account is untouched. */
  async function census(needles: string[]) {
    return rowsMentioning(testDb.orm.em.fork(), needles);
  }

  it('leaves no row in any table holding the user id, email, username or claimed anonymous ids', async () => {
    const em = testDb.orm.em.fork();
    const victim = await seedAccount(em, { messages: 120 });
    const bystander = await seedAccount(em, { messages: 30 });
    const victimNeedles = [victim.userId, victim.email, victim.username, victim.anonymousId];
    const bystanderNeedles = [bystander.userId, bystander.email, bystander.anonymousId];
    // The seed really put the victim everywhere the test then looks.
    const before = await census(victimNeedles);
    expect(before.map((row) => row.table)).toEqual(
      expect.arrayContaining([
        'public.users',
        'public.projects',
        'public.chat_sessions',
        'public.chat_message_versions',
        'public.memories',
        'public.knowledge_entries',
        'public.api_keys',
        'public.audit_log',
        'public.academy_users',
        'public.retention_policies',
      ]),
    );
    const bystanderBefore = await census(bystanderNeedles);
    // Every message in the search index (its rows have no foreign keys), one queued again.
    await query(em, `insert into chat_message_search_queue (message_id) select id from chat_messages`, []);
    await drainSearchQueue(testDb.orm.em.fork(), { batchSize: 1_000 });
    await query(em, `insert into chat_message_search_queue (message_id) select id from chat_messages`, []);
    const unindexed = `select (select count(*) from chat_message_search s
                                where not exists (select from chat_messages m where m.id = s.message_id))
                              + (select count(*) from chat_message_search_queue q
                                  where not exists (select from chat_messages m where m.id = q.message_id)) as n`;

    const receipt = await eraseAccount(testDb.orm.em.fork(), victim.userId, { batchSize: 25 });

    expect(receipt.status).toBe('completed');
    expect(receipt.counts).toMatchObject({
      chat_messages: 121,
      chat_message_versions: 1,
      users: 1,
      memories: 2,
      api_keys: 1,
    });
    expect(receipt.batches).toBeGreaterThan(5);
    expect(await census(victimNeedles)).toEqual([]);
    // Shares, ratings and clears hang off sessions (no user id of their own): only the bystander's stay.
    const [remaining] = await query<{ shares: string; ratings: string; clears: string }>(
      em,
      `select (select count(*) from session_shares) as shares, (select count(*) from message_ratings) as ratings,
              (select count(*) from message_clears) as clears`,
      [],
    );
    expect(remaining).toEqual({ shares: '1', ratings: '1', clears: '1' });
    expect(await census(bystanderNeedles)).toEqual(bystanderBefore);
    // Nothing of the erased messages stays in the search index; the bystander's entries do.
    expect(await query<{ n: string }>(em, unindexed, [])).toEqual([{ n: '0' }]);
    const [{ n: left }] = (await query<{ n: string }>(em, `select count(*) as n from chat_message_search`, [])) as [
      { n: string },
    ];
    expect(Number(left)).toBeGreaterThanOrEqual(30);
    // The receipt names no one, and the admin's row about the user stays as a bare record.
    const [stored] = await query<Record<string, unknown>>(em, `select * from account_erasures where id = $1`, [
      receipt.erasureId,
    ]);
    expect(stored).toMatchObject({ user_id: null, anonymous_ids: [], api_key_ids: [], status: 'completed' });
    const trail = await query<{ action: string; subject_id: string | null }>(
      em,
      `select action, subject_id from audit_log where action in ('admin.note', 'account.erase') order by id`,
      [],
    );
    expect(trail).toEqual([
      { action: 'admin.note', subject_id: null },
      { action: 'admin.note', subject_id: bystander.userId },
      { action: 'account.erase', subject_id: receipt.erasureId },
    ]);
  });

  it('refuses an account under legal hold and changes nothing', async () => {
    const em = testDb.orm.em.fork();
    const held = await seedAccount(em, { messages: 3 });
    await query(
      em,
      `insert into retention_policies (scope, user_id, target, legal_hold) values ('user', $1, 'all', true)`,
      [held.userId],
    );
    const before = await census([held.userId]);
    const erasures = async () =>
      (await query<{ n: number }>(em, `select count(*)::int as n from account_erasures`, []))[0]!.n;
    const erasuresBefore = await erasures();
    await expect(eraseAccount(testDb.orm.em.fork(), held.userId)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await census([held.userId])).toEqual(before);
    expect(await erasures()).toBe(erasuresBefore);
  });

  it('is finished by the next attempt after stopping half-way, and by the stale sweep', async () => {
    const em = testDb.orm.em.fork();
    const first = await seedAccount(em, { messages: 200 });
    const stop = new AbortController();
    let batches = 0;
    const partial = await eraseAccount(testDb.orm.em.fork(), first.userId, {
      batchSize: 20,
      signal: stop.signal,
      onBatch: (table) => {
        if (table === 'chat_messages' && ++batches === 3) stop.abort();
      },
    });
    expect(partial).toMatchObject({ status: 'running', counts: { chat_messages: 60 } });
    // The account is shut while the erasure is unfinished.
    const [user] = await query<{ deleted: boolean }>(
      em,
      `select deleted_at is not null as deleted from users where id = $1`,
      [first.userId],
    );
    expect(user).toEqual({ deleted: true });
    // The next attempt joins the running erasure instead of starting a second one.
    expect(await startErasure(testDb.orm.em.fork(), first.userId)).toBe(partial.erasureId);
    const done = await runErasure(testDb.orm.em.fork(), partial.erasureId, { batchSize: 20 });
    expect(done).toMatchObject({ status: 'completed', counts: { chat_messages: 201, users: 1 } });
    expect(await census([first.userId, first.email, first.anonymousId])).toEqual([]);

    const second = await seedAccount(em, { messages: 10 });
    const erasureId = await startErasure(testDb.orm.em.fork(), second.userId);
    expect(await resumeStaleErasures(testDb.orm.em.fork(), { staleAfterSeconds: 3_600 })).toEqual([]);
    const [resumed] = await resumeStaleErasures(testDb.orm.em.fork(), { staleAfterSeconds: 0 });
    expect(resumed).toMatchObject({ erasureId, status: 'completed' });
    expect(await census([second.userId, second.email, second.anonymousId])).toEqual([]);
  });

  it('is finished by the next attempt after its process is killed with SIGKILL mid-way', async () => {
    const em = testDb.orm.em.fork();
    const victim = await seedAccount(em, { messages: 200 });
    const child = spawn(
      process.execPath,
      [
        join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'erase-until-killed.ts'),
        testDb.db.url,
        victim.userId,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_, signal) => resolve(signal)));
    // Killed once it has committed a few batches of messages: the erasure is half done.
    let messageBatches = 0;
    for await (const line of createInterface({ input: child.stdout! })) {
      const batch = JSON.parse(line) as { table?: string; finished?: boolean };
      expect(batch.finished, 'the erasure ran to its end before the kill').toBeUndefined();
      if (batch.table === 'chat_messages' && ++messageBatches === 3) {
        child.kill('SIGKILL');
        break;
      }
    }
    expect(await exited).toBe('SIGKILL');
    const [running] = await query<{ status: string; messages: number }>(
      em,
      `select status, (counts ->> 'chat_messages')::int as messages from account_erasures
        where status = 'running' and (counts ->> 'chat_messages') is not null`,
      [],
    );
    expect(running).toEqual({ status: 'running', messages: 30 });
    expect((await census([victim.userId])).length).toBeGreaterThan(0);

    const done = await eraseAccount(testDb.orm.em.fork(), victim.userId);
    expect(done).toMatchObject({ status: 'completed', counts: { chat_messages: 201, users: 1 } });
    expect(await census([victim.userId, victim.email, victim.username, victim.anonymousId])).toEqual([]);
  });
});
