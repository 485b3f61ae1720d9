import type { TStatsSeriesOutput } from '@threadstore/client';
import { describe, expect, it } from 'vitest';
import { databaseChart, dayChart, modelChart, NO_MODEL, tableChart } from './series.ts';

const figures = { promptTokens: 0, completionTokens: 0 };
const series: TStatsSeriesOutput = {
  since: '2026-03-01T00:00:00.000Z',
  until: '2026-03-03T00:00:00.000Z',
  snapshotsInRange: 2,
  takenAt: ['2026-03-01T00:00:00.000Z', '2026-03-02T00:00:00.000Z'],
  databaseBytes: [1_000, 2_000],
  tables: [
    { table: 'small', tableBytes: [10, 20], indexBytes: [500, 600], deadTuples: [0, 0], liveTuples: [1, 2] },
    { table: 'big', tableBytes: [100, 200], indexBytes: [5, 6], deadTuples: [9, 7], liveTuples: [1, 2] },
    {
      table: 'gone',
      tableBytes: [1_000, null],
      indexBytes: [null, null],
      deadTuples: [3, null],
      liveTuples: [1, null],
    },
  ],
  days: [
    { day: '2026-03-01', sessionsCreated: 1, activeUsers: 1, activeAnonymous: 0, messages: 4, cost: '0.5', ...figures },
    { day: '2026-03-02', sessionsCreated: 0, activeUsers: 0, activeAnonymous: 0, messages: 0, cost: '0', ...figures },
  ],
  byDayAndModel: [
    { day: '2026-03-01', model: null, messages: 2, cost: '0', ...figures },
    { day: '2026-03-01', model: 'model-b', messages: 1, cost: '0.25', ...figures },
    { day: '2026-03-01', model: 'model-a', messages: 1, cost: '0.25', ...figures },
    // A day outside the days listed is not drawn.
    { day: '2026-02-27', model: 'model-a', messages: 9, cost: '9', ...figures },
  ],
};

describe('chart series', () => {
  it('draws the largest tables by their newest figure, in Unix seconds', () => {
    expect(tableChart(series, 'tableBytes', 2)).toEqual({
      x: [1_772_323_200, 1_772_409_600],
      lines: [
        { label: 'big', values: [100, 200] },
        { label: 'small', values: [10, 20] },
      ],
    });
    // `gone` was the largest, but is not in the newest snapshot.
    expect(tableChart(series, 'deadTuples', 1).lines).toEqual([{ label: 'big', values: [9, 7] }]);
    expect(databaseChart(series).lines).toEqual([{ label: 'database', values: [1_000, 2_000] }]);
  });

  it('draws days at UTC midnight, cost as a number', () => {
    expect(dayChart(series, 'cost')).toEqual({
      x: [1_772_323_200, 1_772_409_600],
      lines: [{ label: 'cost', values: [0.5, 0] }],
    });
  });

  it('draws one line per model with zeros on quiet days, leaving costless ones out of cost', () => {
    expect(modelChart(series, 'messages').lines).toEqual([
      { label: 'model-a', values: [1, 0] },
      { label: 'model-b', values: [1, 0] },
      { label: NO_MODEL, values: [2, 0] },
    ]);
    expect(modelChart(series, 'cost').lines).toEqual([
      { label: 'model-a', values: [0.25, 0] },
      { label: 'model-b', values: [0.25, 0] },
    ]);
  });
});
