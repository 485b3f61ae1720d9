import {
  ZStatsDay,
  ZStatsDayModel,
  type TStatsDay,
  type TStatsDayModel,
  type TStatsSeriesInput,
  type TStatsSeriesOutput,
  type TTableSeries,
} from '@threadstore/contract';
import type { EntityManager } from '@threadstore/db';
import { query } from '../messages/sql.ts';
import { DAY_SERIES, SIZE_SERIES } from './sql.ts';

const DAY_MS = 86_400_000;
export const DEFAULT_SERIES_DAYS = 30;
export const DEFAULT_SERIES_POINTS = 240;

type SizeRow = { taken_at: string; database_bytes: unknown; tables: Record<string, unknown>[]; in_range: number };
type DayRow = { day: string; figures: Record<string, unknown>; models: Record<string, unknown>[] };

const numberOrNull = (value: unknown): number | null => (typeof value === 'number' ? value : null);

/**
 * The stats snapshots of a range as chart series: table and index sizes, dead and live tuples
 * per table over time (thinned to `maxPoints` snapshots), and the product's figures per UTC day
 * and per day and model. Admin-only data: the caller checks the role.
 */
export async function statsSeries(
  em: EntityManager,
  input: TStatsSeriesInput,
  now: Date = new Date(),
): Promise<TStatsSeriesOutput> {
  const until = input.until === undefined ? now : new Date(input.until);
  const since =
    input.since === undefined ? new Date(until.getTime() - DEFAULT_SERIES_DAYS * DAY_MS) : new Date(input.since);
  const maxPoints = input.maxPoints ?? DEFAULT_SERIES_POINTS;
  const range = [since.toISOString(), until.toISOString()];
  const sizes = await query<SizeRow>(em, SIZE_SERIES, [...range, maxPoints]);
  const days = await query<DayRow>(em, DAY_SERIES, [...range, range[0]!.slice(0, 10)]);
  return {
    since: since.toISOString(),
    until: until.toISOString(),
    snapshotsInRange: sizes[0]?.in_range ?? 0,
    takenAt: sizes.map((row) => new Date(row.taken_at).toISOString()),
    databaseBytes: sizes.map((row) => numberOrNull(row.database_bytes)),
    tables: tableSeries(sizes),
    days: days.flatMap((row) => dayFigures(row.figures)),
    byDayAndModel: days.flatMap((row) => row.models.flatMap(modelFigures)),
  };
}

/** One series per table seen in any sampled snapshot, with nulls where a snapshot lacks it. */
function tableSeries(rows: SizeRow[]): TTableSeries[] {
  const byTable = new Map<string, TTableSeries>();
  const series = (table: string) => {
    let found = byTable.get(table);
    if (found === undefined) {
      const empty = () => rows.map(() => null);
      found = { table, tableBytes: empty(), indexBytes: empty(), deadTuples: empty(), liveTuples: empty() };
      byTable.set(table, found);
    }
    return found;
  };
  rows.forEach((row, point) => {
    for (const figures of row.tables) {
      if (typeof figures.table !== 'string') continue;
      const table = series(figures.table);
      table.tableBytes[point] = numberOrNull(figures.tableBytes);
      table.indexBytes[point] = numberOrNull(figures.indexBytes);
      table.deadTuples[point] = numberOrNull(figures.deadTuples);
      table.liveTuples[point] = numberOrNull(figures.liveTuples);
    }
  });
  const newest = new Map(
    (rows.at(-1)?.tables ?? []).map((figures) => [figures.table, numberOrNull(figures.totalBytes) ?? 0]),
  );
  return [...byTable.values()].sort(
    (a, b) => (newest.get(b.table) ?? -1) - (newest.get(a.table) ?? -1) || a.table.localeCompare(b.table),
  );
}

/** A day as the stats job wrote it; an entry of another shape is left out rather than failing the page. */
function dayFigures(figures: Record<string, unknown>): TStatsDay[] {
  const parsed = ZStatsDay.safeParse({ ...figures, messages: figures.messagesCreated });
  return parsed.success ? [parsed.data] : [];
}

function modelFigures(figures: Record<string, unknown>): TStatsDayModel[] {
  const parsed = ZStatsDayModel.safeParse(figures);
  return parsed.success ? [parsed.data] : [];
}
