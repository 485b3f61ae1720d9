import { describe, expect, it } from 'vitest';
import { StatsSnapshotSchema } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { runHandler } from '../../../test/job-context.ts';
import { statsJob } from '@threadstore/jobs';
import { statsSeries } from '@threadstore/domain';

const NO_COST = '0.0000000000';

describe('stats', () => {
  const testDb = useTestDatabase();
  const pool = () => testDb.orm.em.getConnection().getNativeClient();

  /**
   * Two users and an anonymous visitor: today and two days ago inside the 7-day window, ten days
   * ago outside it. Rows are stamped at midnight UTC of their day, so a test that runs across
   * midnight still finds each row on the day it names.
   */
  async function seedConversations() {
    const db = await pool();
    const { rows } = await db.query<{ today: string; two_days_ago: string; ten_days_ago: string }>(
      `select current_date_utc::text as today, (current_date_utc - 2)::text as two_days_ago,
              (current_date_utc - 10)::text as ten_days_ago
       from (select (now() at time zone 'UTC')::date as current_date_utc) d`,
    );
    const days = rows[0]!;
    const user = async () =>
      (
        await db.query<{ id: string }>(
          `insert into users (issuer, subject) values ('test', gen_random_uuid()::text) returning id`,
        )
      ).rows[0]!.id;
    const session = async (owner: { user: string } | { anonymous: true }, day: string) =>
      (
        await db.query<{ id: string }>(
          `insert into chat_sessions (user_id, anonymous_id, last_seq, created_at)
           values ($1, $2, 10, $3::date at time zone 'UTC') returning id`,
          ['user' in owner ? owner.user : null, 'anonymous' in owner ? crypto.randomUUID() : null, day],
        )
      ).rows[0]!.id;
    let seq = 0;
    const message = async (
      sessionId: string,
      day: string,
      usage?: { model: string; prompt: number; completion: number; cost: string },
    ) => {
      seq += 1;
      await db.query(
        `insert into chat_messages (session_id, seq, role, content, model, prompt_tokens, completion_tokens, cost, created_at)
         values ($1, $2, $3, 'text', $4, $5, $6, $7, $8::date at time zone 'UTC')`,
        [
          sessionId,
          seq,
          usage ? 'assistant' : 'user',
          usage?.model ?? null,
          usage?.prompt ?? null,
          usage?.completion ?? null,
          usage?.cost ?? null,
          day,
        ],
      );
    };

    const [alice, bob] = [await user(), await user()];
    const aliceToday = await session({ user: alice }, days.today);
    await message(aliceToday, days.today);
    await message(aliceToday, days.today, { model: 'model-a', prompt: 100, completion: 50, cost: '0.00125' });
    await message(aliceToday, days.today, { model: 'model-a', prompt: 10, completion: 5, cost: '0.0001' });
    const anonymousToday = await session({ anonymous: true }, days.today);
    await message(anonymousToday, days.today);
    const bobEarlier = await session({ user: bob }, days.two_days_ago);
    await message(bobEarlier, days.two_days_ago, { model: 'model-b', prompt: 7, completion: 3, cost: '0.5' });
    const aliceLongAgo = await session({ user: alice }, days.ten_days_ago);
    await message(aliceLongAgo, days.ten_days_ago, { model: 'model-a', prompt: 1000, completion: 1000, cost: '9' });
    return days;
  }

  it('writes a snapshot of database figures and per-day, per-model product figures matching the data', async () => {
    const days = await seedConversations();

    const { result } = await runHandler(statsJob, testDb.orm, {});

    const snapshot = await testDb.orm.em.fork().findOneOrFail(StatsSnapshotSchema, result.details.snapshotId as string);
    expect(result).toMatchObject({ rowsAffected: 1, details: { pruned: 0 } });
    expect(Object.keys(snapshot.database).sort()).toEqual([
      'connections',
      'databaseBytes',
      'indexes',
      'statements',
      'tables',
    ]);
    expect(snapshot.database.tables).toContainEqual(
      expect.objectContaining({
        table: 'chat_messages',
        rowEstimate: expect.any(Number),
        liveTuples: expect.any(Number),
        deadTuples: expect.any(Number),
        tableBytes: expect.any(Number),
        indexBytes: expect.any(Number),
        indexScans: expect.any(Number),
      }),
    );
    expect(snapshot.database.indexes).toContainEqual(
      expect.objectContaining({
        table: 'chat_messages',
        index: 'chat_messages_created_at_index',
        scans: expect.any(Number),
      }),
    );
    expect(snapshot.database.connections).toMatchObject({ max: expect.any(Number), byState: expect.any(Object) });

    expect(snapshot.product).toMatchObject({
      windowDays: 7,
      totals: {
        sessionsCreated: 3,
        messagesCreated: 5,
        activeUsers: 2,
        activeAnonymous: 1,
        promptTokens: 117,
        completionTokens: 58,
        cost: '0.5013500000',
      },
      byDayAndModel: [
        {
          day: days.two_days_ago,
          model: 'model-b',
          messages: 1,
          promptTokens: 7,
          completionTokens: 3,
          cost: '0.5000000000',
        },
        { day: days.today, model: null, messages: 2, promptTokens: 0, completionTokens: 0, cost: NO_COST },
        {
          day: days.today,
          model: 'model-a',
          messages: 2,
          promptTokens: 110,
          completionTokens: 55,
          cost: '0.0013500000',
        },
      ],
    });
    const perDay = snapshot.product.days as { day: string; messagesCreated: number }[];
    expect(perDay).toHaveLength(7);
    expect(perDay.find((day) => day.day === days.today)).toEqual({
      day: days.today,
      sessionsCreated: 2,
      messagesCreated: 4,
      activeUsers: 1,
      activeAnonymous: 1,
      promptTokens: 110,
      completionTokens: 55,
      cost: '0.0013500000',
    });
    expect(perDay.find((day) => day.day === days.two_days_ago)).toMatchObject({
      sessionsCreated: 1,
      messagesCreated: 1,
      activeUsers: 1,
      activeAnonymous: 0,
    });
    expect(perDay.reduce((total, day) => total + day.messagesCreated, 0)).toBe(5);
  });

  it('counts ratings given in the window per session and per model', async () => {
    const db = await pool();
    const { rows: users } = await db.query<{ id: string }>(
      `insert into users (issuer, subject) values ('test', gen_random_uuid()::text) returning id`,
    );
    const { rows: sessions } = await db.query<{ id: string }>(
      `insert into chat_sessions (user_id, last_seq) values ($1, 4), ($1, 4) returning id`,
      [users[0]!.id],
    );
    const [first, second] = sessions.map((row) => row.id) as [string, string];
    // Four answers of two models; three rated this week, one rated long ago (outside the window).
    const { rows: messages } = await db.query<{ id: string; session_id: string }>(
      `insert into chat_messages (session_id, seq, role, content, model)
       values ($1, 1, 'assistant', 'a', 'model-a'), ($1, 2, 'assistant', 'b', 'model-b'),
              ($2, 1, 'assistant', 'c', 'model-a'), ($2, 2, 'assistant', 'd', 'model-a')
       returning id, session_id`,
      [first, second],
    );
    const rate = (index: number, value: 'up' | 'down', age = '0 days') =>
      db.query(
        `insert into message_ratings (session_id, message_id, value, created_at, updated_at)
         values ($1, $2, $3, now() - $4::interval, now() - $4::interval)`,
        [messages[index]!.session_id, messages[index]!.id, value, age],
      );
    await rate(0, 'up');
    await rate(1, 'down');
    await rate(2, 'up');
    await rate(3, 'down', '30 days');

    const { result } = await runHandler(statsJob, testDb.orm, {});

    const snapshot = await testDb.orm.em.fork().findOneOrFail(StatsSnapshotSchema, result.details.snapshotId as string);
    expect(snapshot.product.feedback).toEqual({
      up: 2,
      down: 1,
      byModel: [
        { model: 'model-a', up: 2, down: 0 },
        { model: 'model-b', up: 0, down: 1 },
      ],
      bySession: [
        { sessionId: first, up: 1, down: 1 },
        { sessionId: second, up: 1, down: 0 },
      ],
    });
  });

  it('writes snapshots that statsSeries reads back as chart series, figure for figure', async () => {
    await seedConversations();
    const em = testDb.orm.em.fork();
    const { result } = await runHandler(statsJob, testDb.orm, {});
    const snapshot = await em.findOneOrFail(StatsSnapshotSchema, result.details.snapshotId as string);

    const series = await statsSeries(em, { since: new Date(Date.now() - 86_400_000).toISOString() });

    const newest = series.takenAt.length - 1;
    expect(series.takenAt[newest]).toBe(snapshot.takenAt.toISOString());
    const tables = snapshot.database.tables as { table: string; tableBytes: number; deadTuples: number }[];
    expect(
      series.tables.map((figures) => [figures.table, figures.tableBytes[newest], figures.deadTuples[newest]]),
    ).toEqual(tables.map((figures) => [figures.table, figures.tableBytes, figures.deadTuples]));
    // Yesterday and today, as the snapshot counted them, every field carried over.
    const perDay = snapshot.product.days as ({ messagesCreated: number } & Record<string, unknown>)[];
    expect(series.days).toEqual(
      perDay.slice(-2).map(({ messagesCreated, ...figures }) => ({ ...figures, messages: messagesCreated })),
    );
    expect(series.byDayAndModel).toEqual(
      (snapshot.product.byDayAndModel as { day: string }[]).filter((figures) => figures.day >= series.days[0]!.day),
    );
  });

  it('notes, without failing, that pg_stat_statements is not installed', async () => {
    const { result } = await runHandler(statsJob, testDb.orm, {});

    expect(result.details.statements).toEqual({
      available: false,
      note: expect.stringMatching(/^pg_stat_statements is not installed in this database/),
    });
  });

  it('notes, without failing, that pg_stat_statements is installed but cannot be read', async () => {
    const db = await pool();
    await db.query('create extension if not exists pg_stat_statements');
    try {
      const { result } = await runHandler(statsJob, testDb.orm, {});

      expect(result.details.statements).toEqual({
        available: false,
        note: expect.stringMatching(
          /^pg_stat_statements is installed but could not be read: .*shared_preload_libraries/,
        ),
      });
    } finally {
      await db.query('drop extension pg_stat_statements');
    }
  });

  it('deletes snapshots older than keepSnapshotsDays', async () => {
    const em = testDb.orm.em.fork();
    const old = await em.insert(StatsSnapshotSchema, {
      takenAt: new Date(Date.now() - 40 * 86_400_000),
      database: {},
      product: {},
    });
    const recent = await em.insert(StatsSnapshotSchema, {
      takenAt: new Date(Date.now() - 20 * 86_400_000),
      database: {},
      product: {},
    });

    const { result } = await runHandler(statsJob, testDb.orm, { keepSnapshotsDays: 30 });

    const left = (await em.find(StatsSnapshotSchema, { id: { $in: [old, recent] } })).map((snapshot) => snapshot.id);
    expect(left).toEqual([recent]);
    expect(result.details.pruned).toBe(1);
  });
});
