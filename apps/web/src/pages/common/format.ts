const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${BYTE_UNITS[unit]}`;
}

const COUNT = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });

/** 12_300 → "12.3K". */
export function formatCount(count: number): string {
  return COUNT.format(count);
}

/** A money string or number → "$0.0123" (four significant decimals below a cent). */
export function formatCost(cost: string | number): string {
  const value = typeof cost === 'number' ? cost : Number(cost);
  if (value === 0) return '$0';
  return value < 0.01 ? `$${value.toPrecision(2)}` : `$${value.toFixed(2)}`;
}

const DATE_TIME = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });

/** An ISO timestamp → "Dec 7, 2026, 5:00 AM UTC". */
export function formatTimestamp(iso: string): string {
  return `${DATE_TIME.format(new Date(iso))} UTC`;
}
