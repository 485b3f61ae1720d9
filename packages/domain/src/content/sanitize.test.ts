import { describe, expect, it } from 'vitest';
import { sanitizeJson, sanitizeText } from './sanitize.ts';

const LONE_HIGH = '\uD83D';
const LONE_LOW = '\uDE00';

describe('sanitizeText', () => {
  it('replaces NULs and lone surrogates, high or low, anywhere, with U+FFFD', () => {
    expect(sanitizeText('a\0b')).toBe('a\uFFFDb');
    expect(sanitizeText('\0\0')).toBe('\uFFFD\uFFFD');
    expect(sanitizeText(`x${LONE_HIGH}`)).toBe('x\uFFFD');
    expect(sanitizeText(`${LONE_LOW}x`)).toBe('\uFFFDx');
    // A low surrogate before a high one is two lone halves, not a pair.
    expect(sanitizeText(`${LONE_LOW}${LONE_HIGH}`)).toBe('\uFFFD\uFFFD');
    expect(sanitizeText(`😀${LONE_HIGH}\0😀`)).toBe('😀\uFFFD\uFFFD😀');
  });

  it('returns valid text unchanged, as the very same string', () => {
    for (const text of [
      '',
      'plain ASCII',
      '👨‍👩‍👧‍👦 family (ZWJ)',
      '🇫🇷🇯🇵 flags',
      'مرحبا بالعالم',
      'שלום עולם',
      'e\u0301 combining',
      '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 beyond the BMP',
      '\uFFFD already a replacement character',
    ]) {
      expect(sanitizeText(text)).toBe(text);
    }
  });
});

describe('sanitizeJson', () => {
  it('cleans keys and values at every depth, in objects and arrays', () => {
    const dirty = { 'k\0': [`v${LONE_HIGH}`, { deep: { [`x${LONE_LOW}`]: '\0' } }], n: 1, b: true, z: null };
    expect(sanitizeJson(dirty)).toEqual({
      'k\uFFFD': ['v\uFFFD', { deep: { 'x\uFFFD': '\uFFFD' } }],
      n: 1,
      b: true,
      z: null,
    });
    // The input is left as it was.
    expect(dirty['k\0'][0]).toBe(`v${LONE_HIGH}`);
  });

  it('returns the same reference when nothing needed cleaning, so callers can tell', () => {
    const clean = { a: ['😀', { b: 'שלום' }], c: 3 };
    expect(sanitizeJson(clean)).toBe(clean);
    const dirtyDeep = { a: ['😀', { b: '\0' }], c: 3 };
    const cleaned = sanitizeJson(dirtyDeep) as typeof dirtyDeep;
    expect(cleaned).not.toBe(dirtyDeep);
    expect(cleaned.a).not.toBe(dirtyDeep.a);
  });

  it('keeps a "__proto__" key as data when it rebuilds an object', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": "\\u0000"}, "x": "\\u0000"}') as object;
    const cleaned = sanitizeJson(parsed) as Record<string, unknown>;
    expect(Object.getPrototypeOf(cleaned)).toBe(Object.prototype);
    expect(Object.getOwnPropertyNames(cleaned)).toEqual(['__proto__', 'x']);
    expect(JSON.stringify(cleaned)).toBe('{"__proto__":{"polluted":"\uFFFD"},"x":"\uFFFD"}');
  });
});
