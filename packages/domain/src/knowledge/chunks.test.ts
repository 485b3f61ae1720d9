import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { chunkBody } from './chunks.ts';

describe('chunkBody', () => {
  it('covers the body exactly, in order, each slice within the size, words kept whole', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'b', ' ', '\n', '😀', 'é'), maxLength: 400 }), (body) => {
        const chunks = chunkBody(body, 16);
        expect(chunks.map((chunk) => chunk.text).join('')).toBe(body);
        let at = 0;
        for (const chunk of chunks) {
          expect(chunk.text.length).toBeLessThanOrEqual(16);
          expect(chunk.startChar).toBe(at);
          expect(chunk.lengthChars).toBe([...chunk.text].length);
          at += chunk.lengthChars;
          expect(chunk.text.isWellFormed()).toBe(true);
        }
      }),
    );
    expect(chunkBody('').map((chunk) => chunk.text)).toEqual(['']);
    expect(chunkBody('alpha beta gamma delta', 12).map((chunk) => chunk.text)).toEqual(['alpha beta ', 'gamma delta']);
  });
});
