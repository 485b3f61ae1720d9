import { describe, expect, it } from 'vitest';
import type { MikroORM, RetentionTarget } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import type { Pool } from 'pg';
import { runHandler } from '../../../test/job-context.ts';
import { retentionJob } from '@threadstore/jobs';

const HOURS_PER_DAY = 24;

/**
 * Seeds rows whose name says what they are (session title, message content, memory key), so a
 * test can list what survived by name. Ages are relative to now().
 */
class World {
  readonly #pool: Pool;

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  static async on(orm: MikroORM): Promise<World> {
    return new World(await orm.em.getConnection().getNativeClient());
  }

  async user(): Promise<string> {
    return this.#id(`insert into users (issuer, subject) values ('test', gen_random_uuid()::text) returning id`, []);
  }

  async project(owner: string, name: string): Promise<string> {
    return this.#id(`insert into projects (owner_id, name) values ($1, $2) returning id`, [owner, name]);
  }

  async policy(rule: {
    user?: string;
    project?: string;
    target: RetentionTarget;
    keepForDays?: number;
    legalHold?: boolean;
  }): Promise<string> {
    const scope = rule.project ? 'project' : rule.user ? 'user' : 'global';
    return this.#id(
      `insert into retention_policies (scope, user_id, project_id, target, keep_for_days, legal_hold)
       values ($1, $2, $3, $4, $5, $6) returning id`,
      [scope, rule.user ?? null, rule.project ?? null, rule.target, rule.keepForDays ?? null, rule.legalHold ?? false],
    );
  }

  async globalPolicy(target: RetentionTarget): Promise<string> {
    return this.#id(`select id from retention_policies where scope = 'global' and target = $1`, [target]);
  }

  /** A session and `messages` messages named `<name>#<seq>`, created `messagesDaysAgo` ago. */
  async session(
    name: string,
    owner: { user: string; project?: string } | { anonymous: true; project?: string },
    {
      inactiveDays,
      deletedDaysAgo,
      messages = 2,
      messagesDaysAgo = inactiveDays,
    }: { inactiveDays: number; deletedDaysAgo?: number; messages?: number; messagesDaysAgo?: number },
  ): Promise<string> {
    const id = await this.#id(
      `insert into chat_sessions (user_id, anonymous_id, project_id, title, last_seq, message_count,
         last_activity_at, deleted_at)
       values ($1, $2, $3, $4, $5, $5, now() - $6 * interval '1 day',
         now() - $7 * interval '1 day')
       returning id`,
      [
        'user' in owner ? owner.user : null,
        'anonymous' in owner ? crypto.randomUUID() : null,
        owner.project ?? null,
        name,
        messages,
        inactiveDays,
        deletedDaysAgo ?? null,
      ],
    );
    await this.#pool.query(
      `insert into chat_messages (session_id, seq, role, content, created_at)
       select $1, seq, 'user', $2 || '#' || seq, now() - $3 * interval '1 day' from generate_series(1, $4) seq`,
      [id, name, messagesDaysAgo, messages],
    );
    return id;
  }

  async softDeleteMessage(session: string, seq: number, daysAgo: number): Promise<void> {
    await this.#pool.query(
      `update chat_messages set deleted_at = now() - $3 * interval '1 day' where session_id = $1 and seq = $2`,
      [session, seq, daysAgo],
    );
  }

  async memory(name: string, user: string, kind: 'short_term' | 'episodic' | 'long_term', ageHours: number) {
    await this.#pool.query(
      `insert into memories (user_id, kind, key, content, created_at)
       values ($1, $2, $3, 'remembered', now() - $4 * interval '1 hour')`,
      [user, kind, name, ageHours],
    );
  }

  /** Every message into the search index, as the search indexer would have done days ago. */
  async indexAllForSearch(): Promise<void> {
    await this.#pool.query(
      `insert into chat_message_search (message_id, session_id, search_vector)
       select id, session_id, to_tsvector('simple', content) from chat_messages`,
    );
  }

  /** Every message queued for search indexing, as if the indexer had not reached them yet. */
  async queueAllForSearch(): Promise<void> {
    await this.#pool.query(`insert into chat_message_search_queue (message_id) select id from chat_messages`);
  }

  /** Queued search entries whose message is gone. */
  async orphanedQueueEntries(): Promise<number> {
    const { rows } = await this.#pool.query<{ n: number }>(
      `select count(*)::int as n from chat_message_search_queue q
        where not exists (select from chat_messages m where m.id = q.message_id)`,
    );
    return rows[0]!.n;
  }

  /** An earlier version of every message, as if each had been edited once (messages.edit). */
  async editAllOnce(): Promise<void> {
    await this.#pool.query(
      `insert into chat_message_versions (session_id, message_id, version, content, replaced_by_type, replaced_by_id)
       select session_id, id, 1, 'before the edit', 'user', 'editor' from chat_messages`,
    );
  }

  /** Versions whose message is gone (no foreign key to the message, like the search table). */
  async orphanedVersions(): Promise<number> {
    const { rows } = await this.#pool.query<{ n: number }>(
      `select count(*)::int as n from chat_message_versions v
        where not exists (select from chat_messages m where m.id = v.message_id)`,
    );
    return rows[0]!.n;
  }

  /** Search entries whose message is gone (the search table has no foreign key to cascade). */
  async orphanedSearchEntries(): Promise<number> {
    const { rows } = await this.#pool.query<{ n: number }>(
      `select count(*)::int as n from chat_message_search x
        where not exists (select from chat_messages m where m.id = x.message_id)`,
    );
    return rows[0]!.n;
  }

  /** Names of what is left: sessions, messages and memories. */
  async survivors(): Promise<{ sessions: string[]; messages: string[]; memories: string[] }> {
    const names = async (sql: string) => (await this.#pool.query<{ name: string }>(sql)).rows.map((row) => row.name);
    return {
      sessions: await names(`select title as name from chat_sessions order by 1`),
      messages: await names(`select content as name from chat_messages order by 1`),
      memories: await names(`select key as name from memories order by 1`),
    };
  }

  async #id(sql: string, params: unknown[]): Promise<string> {
    const { rows } = await this.#pool.query<{ id: string }>(sql, params);
    return rows[0]!.id;
  }
}

/**
 * The table of cases: every rule of the retention policies, each with a row that goes and a
 * row just on the other side of the line that stays. Returns what the receipt must say.
 */
async function seedPolicyTable(world: World) {
  const global = {
    inactive: await world.globalPolicy('inactive_sessions'),
    softDeleted: await world.globalPolicy('soft_deleted'),
    shortTerm: await world.globalPolicy('short_term_memories'),
    episodic: await world.globalPolicy('episodic_memories'),
    anonymous: await world.globalPolicy('anonymous_sessions'),
  };
  const [alice, bob, carol, dave] = [await world.user(), await world.user(), await world.user(), await world.user()];
  const bobKeeps10Days = await world.policy({ user: bob, target: 'inactive_sessions', keepForDays: 10 });
  const carolKeeps365Days = await world.policy({ user: carol, target: 'inactive_sessions', keepForDays: 365 });
  await world.policy({ user: bob, target: 'short_term_memories', keepForDays: 7 });
  await world.policy({ user: dave, target: 'all', legalHold: true });
  const heldProject = await world.project(alice, 'held');
  await world.policy({ project: heldProject, target: 'all', legalHold: true });
  const shortProject = await world.project(alice, 'short');
  const shortProjectKeeps5Days = await world.policy({
    project: shortProject,
    target: 'inactive_sessions',
    keepForDays: 5,
  });
  const longProject = await world.project(bob, 'long');
  await world.policy({ project: longProject, target: 'inactive_sessions', keepForDays: 400 });

  const active = await world.session(
    'alice-active-with-old-messages',
    { user: alice },
    {
      inactiveDays: 1,
      messages: 4,
      messagesDaysAgo: 200,
    },
  );
  await world.softDeleteMessage(active, 3, 31);
  await world.softDeleteMessage(active, 4, 29);
  await world.session('alice-inactive-91-days', { user: alice }, { inactiveDays: 91 });
  await world.session('alice-inactive-89-days', { user: alice }, { inactiveDays: 89 });
  await world.session('bob-inactive-15-days', { user: bob }, { inactiveDays: 15 });
  await world.session('bob-inactive-5-days', { user: bob }, { inactiveDays: 5 });
  await world.session('carol-inactive-200-days', { user: carol }, { inactiveDays: 200 });
  await world.session('carol-inactive-400-days', { user: carol }, { inactiveDays: 400 });
  await world.session('dave-held-inactive-500-days', { user: dave }, { inactiveDays: 500 });
  await world.session('dave-held-deleted-100-days', { user: dave }, { inactiveDays: 2, deletedDaysAgo: 100 });
  await world.session('held-project-inactive-500-days', { user: alice, project: heldProject }, { inactiveDays: 500 });
  await world.session(
    'held-project-anonymous-100-days',
    { anonymous: true, project: heldProject },
    {
      inactiveDays: 100,
    },
  );
  await world.session('short-project-inactive-7-days', { user: alice, project: shortProject }, { inactiveDays: 7 });
  await world.session(
    'long-project-bob-inactive-100-days',
    { user: bob, project: longProject },
    {
      inactiveDays: 100,
    },
  );
  await world.session('alice-deleted-31-days-ago', { user: alice }, { inactiveDays: 2, deletedDaysAgo: 31 });
  await world.session('alice-deleted-29-days-ago', { user: alice }, { inactiveDays: 2, deletedDaysAgo: 29 });
  await world.session('anonymous-inactive-31-days', { anonymous: true }, { inactiveDays: 31, messages: 3 });
  await world.session('anonymous-inactive-29-days', { anonymous: true }, { inactiveDays: 29 });

  await world.memory('alice-short-term-25-hours', alice, 'short_term', 25);
  await world.memory('alice-short-term-23-hours', alice, 'short_term', 23);
  await world.memory('alice-episodic-31-days', alice, 'episodic', 31 * HOURS_PER_DAY);
  await world.memory('alice-episodic-29-days', alice, 'episodic', 29 * HOURS_PER_DAY);
  await world.memory('alice-long-term-400-days', alice, 'long_term', 400 * HOURS_PER_DAY);
  await world.memory('bob-short-term-3-days', bob, 'short_term', 3 * HOURS_PER_DAY);
  await world.memory('dave-held-short-term-10-days', dave, 'short_term', 10 * HOURS_PER_DAY);

  const policy = (policyId: string, scope: string, keepForDays: number, counts: Partial<Record<string, number>>) => ({
    policyId,
    scope,
    keepForDays,
    sessions: 0,
    messages: 0,
    memories: 0,
    ...counts,
  });
  const byId = (a: { policyId: string }, b: { policyId: string }) => a.policyId.localeCompare(b.policyId);
  return {
    survivors: {
      sessions: [
        'alice-active-with-old-messages',
        'alice-deleted-29-days-ago',
        'alice-inactive-89-days',
        'anonymous-inactive-29-days',
        'bob-inactive-5-days',
        'carol-inactive-200-days',
        'dave-held-deleted-100-days',
        'dave-held-inactive-500-days',
        'held-project-anonymous-100-days',
        'held-project-inactive-500-days',
        'long-project-bob-inactive-100-days',
      ],
      memories: [
        'alice-episodic-29-days',
        'alice-long-term-400-days',
        'alice-short-term-23-hours',
        'bob-short-term-3-days',
        'dave-held-short-term-10-days',
      ],
    },
    targets: {
      inactive_sessions: {
        sessions: 4,
        messages: 8,
        memories: 0,
        policies: [
          policy(global.inactive, 'global', 90, { sessions: 1, messages: 2 }),
          policy(bobKeeps10Days, 'user', 10, { sessions: 1, messages: 2 }),
          policy(carolKeeps365Days, 'user', 365, { sessions: 1, messages: 2 }),
          policy(shortProjectKeeps5Days, 'project', 5, { sessions: 1, messages: 2 }),
        ].sort(byId),
      },
      anonymous_sessions: {
        sessions: 1,
        messages: 3,
        memories: 0,
        policies: [policy(global.anonymous, 'global', 30, { sessions: 1, messages: 3 })],
      },
      // One soft-deleted session with its 2 messages, and one soft-deleted message of a live session.
      soft_deleted: {
        sessions: 1,
        messages: 3,
        memories: 0,
        policies: [policy(global.softDeleted, 'global', 30, { sessions: 1, messages: 3 })],
      },
      short_term_memories: {
        sessions: 0,
        messages: 0,
        memories: 1,
        policies: [policy(global.shortTerm, 'global', 1, { memories: 1 })],
      },
      episodic_memories: {
        sessions: 0,
        messages: 0,
        memories: 1,
        policies: [policy(global.episodic, 'global', 30, { memories: 1 })],
      },
    },
    rowsAffected: 4 + 8 + 1 + 3 + 1 + 3 + 1 + 1,
  };
}

describe('retention, a real run', () => {
  const testDb = useTestDatabase();

  it('deletes exactly what the policies say has expired, per target and governing policy, and keeps the rest', async () => {
    const world = await World.on(testDb.orm);
    const expected = await seedPolicyTable(world);
    await world.indexAllForSearch();
    await world.queueAllForSearch();
    await world.editAllOnce();
    // Every message rated (messages.rate): a purged message's rating goes with it.
    const em = testDb.orm.em.fork();
    await em.execute(
      `insert into message_ratings (session_id, message_id, value) select session_id, id, 'up' from chat_messages`,
    );

    const { result } = await runHandler(retentionJob, testDb.orm, {});
    // Whole sessions and single soft-deleted messages alike take their search entries and their
    // earlier versions with them.
    expect(await world.orphanedSearchEntries()).toBe(0);
    expect(await world.orphanedQueueEntries()).toBe(0);
    expect(await world.orphanedVersions()).toBe(0);
    const [ratings] = await em.execute<{ orphaned: string; kept: string; messages: string }[]>(
      `select (select count(*) from message_ratings r where not exists (select from chat_messages m where m.id = r.message_id)) as orphaned,
              (select count(*) from message_ratings) as kept, (select count(*) from chat_messages) as messages`,
    );
    expect(ratings!.orphaned).toBe('0');
    expect(ratings!.kept).toBe(ratings!.messages);

    const survivors = await world.survivors();
    expect(survivors.sessions).toEqual(expected.survivors.sessions);
    expect(survivors.memories).toEqual(expected.survivors.memories);
    // The live session keeps its 200-day-old messages; only its message soft-deleted 31 days ago goes.
    expect(survivors.messages.filter((name) => name.startsWith('alice-active'))).toEqual([
      'alice-active-with-old-messages#1',
      'alice-active-with-old-messages#2',
      'alice-active-with-old-messages#4',
    ]);
    expect(result.details.targets).toEqual(expected.targets);
    expect(result.rowsAffected).toBe(expected.rowsAffected);
    expect(result.details).toMatchObject({ dryRun: false, stoppedEarly: false, lockConflicts: 0 });
  });
});

describe('retention, compressing its WAL', () => {
  const testDb = useTestDatabase();

  it('uses lz4 (else zstd) for its batches where the server has it and the role may set it, and nothing else', async () => {
    const world = await World.on(testDb.orm);
    await seedPolicyTable(world);
    const [server] = await testDb.orm.em.fork().execute<{ methods: string[]; may: boolean }[]>(
      `select (select enumvals from pg_settings where name = 'wal_compression') as methods,
                has_parameter_privilege('wal_compression', 'SET')
                  or (select rolsuper from pg_roles where rolname = current_user) as may`,
    );
    const expected = server!.may
      ? (['lz4', 'zstd'].find((method) => server!.methods.includes(method)) ?? 'off')
      : 'off';

    const off = await runHandler(retentionJob, testDb.orm, { walCompression: 'off', dryRun: true });
    expect(off.result.details).toMatchObject({ walCompression: 'off' });
    const { result } = await runHandler(retentionJob, testDb.orm, {});
    expect(result.details).toMatchObject({ walCompression: expected, lockConflicts: 0 });
    expect(result.rowsAffected).toBe(off.result.rowsAffected);
    // Only the run's own transactions: the pooled connection goes back as it came.
    const [after] = await testDb.orm.em
      .fork()
      .execute<{ setting: string }[]>(`select current_setting('wal_compression') as setting`);
    expect(after!.setting).toBe('off');
  });
});

describe('retention, a dry run', () => {
  const testDb = useTestDatabase();

  it('deletes nothing and reports exactly what the real run then deletes', async () => {
    const world = await World.on(testDb.orm);
    const expected = await seedPolicyTable(world);
    const before = await world.survivors();

    const dryRun = await runHandler(retentionJob, testDb.orm, { dryRun: true });

    expect(await world.survivors()).toEqual(before);
    expect(dryRun.result.details.targets).toEqual(expected.targets);
    const realRun = await runHandler(retentionJob, testDb.orm, {});
    expect(realRun.result.details.targets).toEqual(dryRun.result.details.targets);
    expect(realRun.result.rowsAffected).toBe(dryRun.result.rowsAffected);
    expect(dryRun.result.details).toMatchObject({ dryRun: true });
  });
});

describe('retention in batches', () => {
  const testDb = useTestDatabase();

  it('hides the expired sessions before deleting any message; a run stopped then leaves them whole, and a rerun deletes and counts them', async () => {
    const world = await World.on(testDb.orm);
    const user = await world.user();
    const expired = await world.session('expired', { user }, { inactiveDays: 120, messages: 25 });
    await world.session('live', { user }, { inactiveDays: 1, messages: 25 });
    const stop = new AbortController();

    const first = await runHandler(
      retentionJob,
      testDb.orm,
      {},
      { signal: stop.signal, onProgress: () => stop.abort() },
    );

    expect(first.result.details).toMatchObject({ stoppedEarly: true, batches: 1 });
    expect(await sessionState(expired)).toEqual([{ hidden: true, messages: 25 }]);
    const rerun = await runHandler(retentionJob, testDb.orm, {});
    expect((await world.survivors()).sessions).toEqual(['live']);
    expect(rerun.result.details.targets).toMatchObject({ inactive_sessions: { sessions: 1, messages: 25 } });
  });

  it('sweeps the heap a slice at a time: a run stopped mid-sweep leaves a hidden, half-emptied session, and a rerun finishes and counts the rest', async () => {
    const world = await World.on(testDb.orm);
    const user = await world.user();
    // Long contents spread the messages over several heap pages; a batch of 10 rows starts with one-page slices.
    const large = await world.session('large-expired', { user }, { inactiveDays: 120, messages: 60 });
    await world.session('live-too', { user }, { inactiveDays: 1, messages: 25 });
    const pool = await testDb.orm.em.getConnection().getNativeClient();
    await pool.query(
      `update chat_messages m set content = m.content || (select string_agg(md5(random()::text || m.id::text || g), '') from generate_series(1, 30) g)`,
    );
    await pool.query('vacuum full chat_messages');
    await world.indexAllForSearch();
    const stop = new AbortController();

    const first = await runHandler(
      retentionJob,
      testDb.orm,
      { batchSize: 10, pause: 0 },
      {
        signal: stop.signal,
        // Stops after the first sweep batch that deleted something (earlier tests' rows come first).
        onProgress: (details) => {
          const { inactive_sessions: deleted } = details.targets as Record<string, { messages: number }>;
          if (deleted!.messages > 0) stop.abort();
        },
      },
    );
    expect(first.result.details).toMatchObject({ stoppedEarly: true });
    const [state] = await sessionState(large);
    expect(state!.hidden).toBe(true);
    expect(state!.messages).toBeGreaterThan(0);
    expect(state!.messages).toBeLessThan(60);
    expect(first.result.details.targets).toMatchObject({
      inactive_sessions: { sessions: 0, messages: 60 - state!.messages },
    });

    const rerun = await runHandler(retentionJob, testDb.orm, { batchSize: 10 });

    expect((await world.survivors()).sessions).toEqual(['live', 'live-too']);
    expect(await world.orphanedSearchEntries()).toBe(0);
    expect(rerun.result.details.targets).toMatchObject({
      inactive_sessions: { sessions: 1, messages: state!.messages },
    });
  });

  async function sessionState(id: string) {
    const pool = await testDb.orm.em.getConnection().getNativeClient();
    const { rows } = await pool.query<{ hidden: boolean; messages: number }>(
      `select s.deleted_at is not null as hidden, (select count(*)::int from chat_messages m where m.session_id = s.id) as messages
       from chat_sessions s where s.id = $1`,
      [id],
    );
    return rows;
  }

  it('skips a batch that waits out the lock timeout on rows another transaction holds, leaving them to the next run', async () => {
    const world = await World.on(testDb.orm);
    const busy = await world.session('expired-but-locked', { user: await world.user() }, { inactiveDays: 120 });
    const locker = await (await testDb.orm.em.getConnection().getNativeClient()).connect();
    try {
      await locker.query('begin');
      await locker.query('select 1 from chat_messages where session_id = $1 for update', [busy]);

      const { result } = await runHandler(retentionJob, testDb.orm, {});

      // The sweep's slice holding those rows waits out the lock, then so does the last step, which
      // looks for the session's rows by index before deleting it.
      expect(result.details).toMatchObject({ lockConflicts: 2, targets: { inactive_sessions: { sessions: 0 } } });
    } finally {
      await locker.query('rollback');
      locker.release();
    }
    expect((await world.survivors()).sessions).toContain('expired-but-locked');

    const rerun = await runHandler(retentionJob, testDb.orm, {});

    expect((await world.survivors()).sessions).not.toContain('expired-but-locked');
    expect(rerun.result.details).toMatchObject({ lockConflicts: 0, targets: { inactive_sessions: { sessions: 1 } } });
  });
});
