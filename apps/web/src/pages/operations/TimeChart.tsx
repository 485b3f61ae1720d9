import { useEffect, useId, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ChartData } from './series.ts';

/** Distinguishable in light and dark themes (at least 3:1 against either background). */
const PALETTE = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#db2777', '#0891b2', '#65a30d'];
const HEIGHT = 240;

export interface TimeChartProps {
  title: string;
  /** One sentence on what the chart shows, read to screen readers with the title. */
  description: string;
  data: ChartData;
  /** How a y value reads on the axis, in the legend and in the data table. */
  format(value: number): string;
  /** Bars for per-day counts, lines for figures sampled over time. */
  kind?: 'line' | 'bars';
  /** Days on the x axis (no time of day). */
  daily?: boolean;
  /** The x axis's span in Unix seconds (the range asked for); by default the data's own. */
  xRange?: [number, number];
}

/**
 * A chart drawn by uPlot (canvas) with the same figures as a table under a disclosure, so the
 * numbers are there for keyboards and screen readers too. Resizes with its container.
 */
export function TimeChart({ title, description, data, format, kind = 'line', daily = false, xRange }: TimeChartProps) {
  const container = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const aligned = useMemo<uPlot.AlignedData>(() => [data.x, ...data.lines.map((line) => line.values)], [data]);

  useEffect(() => {
    const element = container.current;
    if (element === null || data.x.length === 0) return;
    const style = getComputedStyle(element);
    const foreground = style.getPropertyValue('--fg').trim() || '#111827';
    const grid = style.getPropertyValue('--border').trim() || '#d1d5db';
    const bars = kind === 'bars' ? uPlot.paths.bars?.({ size: [0.6, 48] }) : undefined;
    const axis = { stroke: foreground, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const chart = new uPlot(
      {
        width: Math.max(element.clientWidth, 280),
        height: HEIGHT,
        scales: {
          x: { time: true, range: () => xSpan(data.x, kind, xRange) },
          y: { range: (_chart, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] },
        },
        // Values are in the table under the chart; the legend names the series.
        legend: { live: false },
        series: [
          { label: daily ? 'Day' : 'Time', value: (_chart, value) => (value === null ? '–' : xLabel(value, daily)) },
          ...data.lines.map((line, index) => ({
            label: line.label,
            stroke: PALETTE[index % PALETTE.length],
            fill: kind === 'bars' ? PALETTE[index % PALETTE.length] : undefined,
            width: 2,
            points: { show: kind === 'line' && data.x.length < 40 },
            paths: bars,
            value: (_chart: uPlot, value: number | null) => (value === null ? '–' : format(value)),
          })),
        ],
        axes: [
          { ...axis, values: daily ? (_chart, splits) => splits.map((split) => xLabel(split, true)) : undefined },
          { ...axis, size: 72, values: (_chart, splits) => splits.map(format) },
        ],
      },
      aligned,
      element,
    );
    const resize = new ResizeObserver(() =>
      chart.setSize({ width: Math.max(element.clientWidth, 280), height: HEIGHT }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [aligned, data, format, kind, daily, xRange]);

  return (
    <figure className="chart" aria-labelledby={titleId}>
      <figcaption id={titleId}>
        <strong>{title}</strong> <span className="muted">{description}</span>
      </figcaption>
      {data.x.length === 0 ? (
        <p className="muted">No snapshots in this range yet.</p>
      ) : (
        <>
          <div ref={container} className="chart-canvas" role="img" aria-label={`${title}: ${description}`} />
          <details>
            <summary>Figures of “{title}” as a table</summary>
            <ChartTable data={data} format={format} daily={daily} />
          </details>
        </>
      )}
    </figure>
  );
}

const HALF_DAY = 43_200;

/**
 * The x axis's span: the range asked for, else the data's. Bars get half a day either side, so
 * the first and last are drawn whole; a lone point gets an hour either side instead of the
 * years uPlot would otherwise spread around it.
 */
function xSpan(x: number[], kind: 'line' | 'bars', asked?: [number, number]): [number, number] {
  const [first = 0, last = first] = [x[0], x.at(-1)];
  if (kind === 'bars') return [first - HALF_DAY, last + HALF_DAY];
  if (asked !== undefined) return asked;
  return first === last ? [first - 3_600, last + 3_600] : [first, last];
}

const TIME = new Intl.DateTimeFormat('en', { dateStyle: 'short', timeStyle: 'short', timeZone: 'UTC' });
const DAY = new Intl.DateTimeFormat('en', { month: 'short', day: 'numeric', timeZone: 'UTC' });

function xLabel(seconds: number, daily: boolean): string {
  return (daily ? DAY : TIME).format(new Date(seconds * 1000));
}

function ChartTable({ data, format, daily }: { data: ChartData; format(value: number): string; daily: boolean }) {
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">{daily ? 'Day (UTC)' : 'Taken at (UTC)'}</th>
          {data.lines.map((line) => (
            <th key={line.label} scope="col">
              {line.label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {data.x.map((x, row) => (
          <tr key={x}>
            <th scope="row">{xLabel(x, daily)}</th>
            {data.lines.map((line) => {
              const value = line.values[row];
              return <td key={line.label}>{value === null || value === undefined ? '–' : format(value)}</td>;
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
