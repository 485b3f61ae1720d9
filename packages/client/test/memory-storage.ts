import type { AnonymousIdStorage } from '../src/anonymous-id.ts';

/** What a browser's `localStorage` does, for Node; `entries` shows what was stored. */
export function memoryStorage(entries: Record<string, string> = {}): AnonymousIdStorage & {
  entries: Map<string, string>;
} {
  const map = new Map(Object.entries(entries));
  return {
    entries: map,
    getItem: (key) => map.get(key) ?? null,
    setItem: (key, value) => void map.set(key, value),
  };
}
