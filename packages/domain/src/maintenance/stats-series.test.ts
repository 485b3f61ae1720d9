import { describe, expect, it } from 'vitest';
import { StatsSnapshotSchema } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { statsSeries } from './stats-series.ts';

const HOUR_MS = 3_600_000;
const at = (iso: string) => new Date(iso);

/** A table's figures as the stats job writes them. */
const table = (name: string, bytes: number, deadTuples = 0) => ({
  table: name,
  rowEstimate: 10,
  liveTuples: 10,
  deadTuples,
  tableBytes: bytes,
  indexBytes: bytes / 2,
  totalBytes: bytes * 1.5,
  seqScans: 0,
  indexScans: 0,
});

/** A day as the stats job writes it. */
const day = (date: string, messagesCreated: number, cost: string) => ({
  day: date,
  sessionsCreated: 1,
  messagesCreated,
  activeUsers: 1,
  activeAnonymous: 0,
  promptTokens: messagesCreated * 10,
  completionTokens: messagesCreated * 5,
  cost,
});

const model = (date: string, name: string | null, messages: number, cost: string) => ({
  day: date,
  model: name,
  messages,
  promptTokens: messages * 10,
  completionTokens: messages * 5,
  cost,
});

describe('statsSeries', () => {
  const testDb = useTestDatabase();

  type Snapshot = { takenAt: Date; database: Record<string, unknown>; product: Record<string, unknown> };
  async function insertSnapshots(rows: Snapshot[]) {
    const em = testDb.orm.em.fork();
    await em.nativeDelete(StatsSnapshotSchema, {});
    for (const row of rows) await em.insert(StatsSnapshotSchema, row);
  }

  it('thins the range to evenly spaced snapshots and aligns every table with them, largest first', async () => {
    const start = at('2026-03-01T00:00:00Z').getTime();
    // Twelve hourly snapshots; `late` only exists from the seventh on and ends up the largest.
    await insertSnapshots(
      Array.from({ length: 12 }, (_, hour) => ({
        takenAt: new Date(start + hour * HOUR_MS),
        database: {
          databaseBytes: 1_000 + hour,
          tables: [table('early', 100 + hour, hour), ...(hour >= 6 ? [table('late', 1_000 * hour)] : [])],
        },
        product: {},
      })),
    );

    const series = await statsSeries(testDb.orm.em.fork(), {
      since: '2026-03-01T00:00:00Z',
      until: '2026-03-01T11:00:00Z',
      maxPoints: 3,
    });

    // Three slices of the 11-hour range; the newest snapshot of each: hours 3, 7 and 11.
    expect(series.snapshotsInRange).toBe(12);
    expect(series.takenAt).toEqual([
      '2026-03-01T03:00:00.000Z',
      '2026-03-01T07:00:00.000Z',
      '2026-03-01T11:00:00.000Z',
    ]);
    expect(series.databaseBytes).toEqual([1_003, 1_007, 1_011]);
    expect(series.tables).toEqual([
      {
        table: 'late',
        tableBytes: [null, 7_000, 11_000],
        indexBytes: [null, 3_500, 5_500],
        deadTuples: [null, 0, 0],
        liveTuples: [null, 10, 10],
      },
      {
        table: 'early',
        tableBytes: [103, 107, 111],
        indexBytes: [51.5, 53.5, 55.5],
        deadTuples: [3, 7, 11],
        liveTuples: [10, 10, 10],
      },
    ]);
    expect(series).toMatchObject({ since: '2026-03-01T00:00:00.000Z', until: '2026-03-01T11:00:00.000Z' });
  });

  it('takes each day from the newest snapshot covering it, per model too, from the start of the range on', async () => {
    await insertSnapshots([
      {
        // Counted 3 March before it was over; the snapshot of 4 March supersedes it.
        takenAt: at('2026-03-03T12:00:00Z'),
        database: {},
        product: {
          days: [day('2026-03-01', 9, '9'), day('2026-03-02', 2, '0.2'), day('2026-03-03', 1, '0.1')],
          byDayAndModel: [model('2026-03-03', 'model-a', 1, '0.1')],
        },
      },
      {
        takenAt: at('2026-03-04T01:00:00Z'),
        database: {},
        product: {
          days: [day('2026-03-02', 2, '0.2'), day('2026-03-03', 5, '0.5'), day('2026-03-04', 0, '0')],
          byDayAndModel: [
            model('2026-03-02', 'model-b', 2, '0.2'),
            model('2026-03-03', null, 2, '0'),
            model('2026-03-03', 'model-a', 3, '0.5'),
          ],
        },
      },
      // Outside the range: its figures for 4 March are not used.
      { takenAt: at('2026-03-05T01:00:00Z'), database: {}, product: { days: [day('2026-03-04', 99, '99')] } },
    ]);

    const series = await statsSeries(testDb.orm.em.fork(), {
      since: '2026-03-02T06:00:00Z',
      until: '2026-03-04T12:00:00Z',
    });

    expect(series.days).toEqual([
      {
        day: '2026-03-02',
        sessionsCreated: 1,
        messages: 2,
        activeUsers: 1,
        activeAnonymous: 0,
        promptTokens: 20,
        completionTokens: 10,
        cost: '0.2',
      },
      {
        day: '2026-03-03',
        sessionsCreated: 1,
        messages: 5,
        activeUsers: 1,
        activeAnonymous: 0,
        promptTokens: 50,
        completionTokens: 25,
        cost: '0.5',
      },
      {
        day: '2026-03-04',
        sessionsCreated: 1,
        messages: 0,
        activeUsers: 1,
        activeAnonymous: 0,
        promptTokens: 0,
        completionTokens: 0,
        cost: '0',
      },
    ]);
    expect(series.byDayAndModel).toEqual([
      model('2026-03-02', 'model-b', 2, '0.2'),
      model('2026-03-03', null, 2, '0'),
      model('2026-03-03', 'model-a', 3, '0.5'),
    ]);
  });

  it('leaves out what a snapshot of another shape lacks, instead of failing', async () => {
    await insertSnapshots([
      { takenAt: at('2026-03-01T00:00:00Z'), database: { old: true }, product: { days: 'not a list' } },
      {
        takenAt: at('2026-03-01T01:00:00Z'),
        database: { databaseBytes: '12', tables: [{ table: 't', tableBytes: 'big' }, { bytes: 3 }] },
        product: {
          days: [{ day: '2026-03-01', messagesCreated: -1 }],
          byDayAndModel: [{ day: '2026-03-01', model: 5 }],
        },
      },
    ]);

    const series = await statsSeries(testDb.orm.em.fork(), {
      since: '2026-02-28T00:00:00Z',
      until: '2026-03-02T00:00:00Z',
    });

    expect(series).toMatchObject({
      snapshotsInRange: 2,
      takenAt: ['2026-03-01T00:00:00.000Z', '2026-03-01T01:00:00.000Z'],
      databaseBytes: [null, null],
      tables: [
        {
          table: 't',
          tableBytes: [null, null],
          indexBytes: [null, null],
          deadTuples: [null, null],
          liveTuples: [null, null],
        },
      ],
      days: [],
      byDayAndModel: [],
    });
  });

  it('answers an empty range with empty series, the last 30 days by default', async () => {
    await insertSnapshots([{ takenAt: at('2026-01-01T00:00:00Z'), database: { databaseBytes: 1 }, product: {} }]);
    const now = at('2026-03-31T00:00:00Z');

    const series = await statsSeries(testDb.orm.em.fork(), {}, now);

    expect(series).toEqual({
      since: '2026-03-01T00:00:00.000Z',
      until: '2026-03-31T00:00:00.000Z',
      snapshotsInRange: 0,
      takenAt: [],
      databaseBytes: [],
      tables: [],
      days: [],
      byDayAndModel: [],
    });
  });
});
