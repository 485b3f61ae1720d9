import { describe, expect, it } from 'vitest';
import { formatDuration } from './RunsPage.tsx';

describe('formatDuration', () => {
  it.each([
    [0, '0 s'],
    [12_400, '12 s'],
    [185_000, '3 min 05 s'],
    [3_720_000, '1 h 02 min'],
    [-5_000, '0 s'],
  ])('%d ms reads %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
