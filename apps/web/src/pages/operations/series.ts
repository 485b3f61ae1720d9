import type { TStatsSeriesOutput, TTableSeries } from '@threadstore/client';

/** What one chart draws: x values (Unix seconds, ascending) and one line per label, aligned with x. */
export interface ChartData {
  x: number[];
  lines: { label: string; values: (number | null)[] }[];
}

type TableMetric = 'tableBytes' | 'indexBytes' | 'deadTuples';
type DayMetric = 'messages' | 'cost';

const seconds = (iso: string) => Date.parse(iso) / 1000;
const daySeconds = (day: string) => Date.parse(`${day}T00:00:00Z`) / 1000;
/** A table's figure at the newest snapshot; one gone by then ranks last. */
const newest = (values: (number | null)[]) => values.at(-1) ?? -1;

/** The `count` tables largest in `metric` at the newest snapshot, each as a line over time. */
export function tableChart(series: TStatsSeriesOutput, metric: TableMetric, count = 6): ChartData {
  const top = [...series.tables]
    .sort((a: TTableSeries, b: TTableSeries) => newest(b[metric]) - newest(a[metric]) || a.table.localeCompare(b.table))
    .slice(0, count);
  return { x: series.takenAt.map(seconds), lines: top.map((table) => ({ label: table.table, values: table[metric] })) };
}

/** The whole database's size over time. */
export function databaseChart(series: TStatsSeriesOutput): ChartData {
  return { x: series.takenAt.map(seconds), lines: [{ label: 'database', values: series.databaseBytes }] };
}

/** Messages or cost (in dollars, as a number for drawing) per UTC day. */
export function dayChart(series: TStatsSeriesOutput, metric: DayMetric): ChartData {
  return {
    x: series.days.map((day) => daySeconds(day.day)),
    lines: [
      {
        label: metric === 'messages' ? 'messages' : 'cost',
        values: series.days.map((day) => (metric === 'messages' ? day.messages : Number(day.cost))),
      },
    ],
  };
}

/** The name a chart gives messages no model wrote (the users' own turns). */
export const NO_MODEL = 'no model (user turns)';

/**
 * Messages or cost per UTC day, one line per model, on the days of the range; a model with
 * nothing on a day counts 0 there. For cost, models that cost nothing (user turns) are left out.
 */
export function modelChart(series: TStatsSeriesOutput, metric: DayMetric): ChartData {
  const days = series.days.map((day) => day.day);
  const index = new Map(days.map((day, position) => [day, position]));
  const byModel = new Map<string, number[]>();
  for (const figures of series.byDayAndModel) {
    const position = index.get(figures.day);
    if (position === undefined) continue;
    const label = figures.model ?? NO_MODEL;
    let values = byModel.get(label);
    if (values === undefined) {
      values = days.map(() => 0);
      byModel.set(label, values);
    }
    values[position]! += metric === 'messages' ? figures.messages : Number(figures.cost);
  }
  const lines = [...byModel]
    .filter(([, values]) => metric === 'messages' || values.some((value) => value > 0))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([label, values]) => ({ label, values }));
  return { x: days.map(daySeconds), lines };
}
