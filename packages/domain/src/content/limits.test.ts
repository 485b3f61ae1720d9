import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTENT_LIMITS } from '@threadstore/contract';
import { DomainError } from '../errors.ts';
import { checkTextBytes, jsonDepth, prepareJson } from './limits.ts';

function nested(levels: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i++) value = i % 2 === 0 ? [value] : { next: value };
  return value;
}

function refusal(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('jsonDepth', () => {
  it('counts objects and arrays: a scalar is 0, {} is 1', () => {
    expect(jsonDepth('text')).toBe(0);
    expect(jsonDepth(null)).toBe(0);
    expect(jsonDepth({})).toBe(1);
    expect(jsonDepth([])).toBe(1);
    expect(jsonDepth({ a: [1, { b: {} }], c: 'x' })).toBe(4);
    expect(jsonDepth(nested(16))).toBe(16);
  });

  it('measures 100,000 levels without overflowing the stack, and stops once past the ceiling', () => {
    const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)) as unknown;
    expect(jsonDepth(deep)).toBe(100_000);
    expect(jsonDepth(deep, 16)).toBe(17);
  });

  it('ends on a cyclic object once past the ceiling', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(jsonDepth(cyclic, 16)).toBe(17);
  });
});

describe('prepareJson', () => {
  const limits = { maxJsonDepth: 3, maxJsonBytes: 20 };

  it('returns the sanitized value, its JSON, and whether anything was replaced', () => {
    expect(prepareJson({ a: [1] }, limits, 'metadata')).toEqual({
      value: { a: [1] },
      json: '{"a":[1]}',
      sanitized: false,
    });
    expect(prepareJson({ 'a\0': 'b' }, limits, 'metadata')).toEqual({
      value: { 'a\uFFFD': 'b' },
      json: '{"a\uFFFD":"b"}',
      sanitized: true,
    });
  });

  it('refuses nesting past maxJsonDepth, naming the limit and the field', () => {
    const error = refusal(() => prepareJson({ a: { b: { c: {} } } }, limits, 'metadata'));
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.message).toBe('metadata nests more than 3 levels deep; the limit maxJsonDepth is 3');
    expect(error.details).toEqual({ limit: 'maxJsonDepth', max: 3, actual: 4, field: 'metadata' });
  });

  it('refuses 100,000 levels of nesting with the same BAD_REQUEST, not a stack overflow', () => {
    const deep = JSON.parse('{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000)) as unknown;
    const error = refusal(() => prepareJson(deep, DEFAULT_CONTENT_LIMITS, 'toolCalls'));
    expect(error.details).toMatchObject({ limit: 'maxJsonDepth', max: DEFAULT_CONTENT_LIMITS.maxJsonDepth });
  });

  it('refuses JSON over maxJsonBytes, counting UTF-8 bytes of the serialized value', () => {
    // {"k":"ééééééé"} is 15 characters but 22 bytes.
    const error = refusal(() => prepareJson({ k: 'ééééééé' }, limits, 'citations'));
    expect(error.message).toBe('citations is 22 bytes as JSON; the limit maxJsonBytes is 20');
    expect(error.details).toEqual({ limit: 'maxJsonBytes', max: 20, actual: 22, field: 'citations' });
    expect(prepareJson({ k: 'éééééé' }, limits, 'citations').json).toBe('{"k":"éééééé"}');
  });
});

describe('checkTextBytes', () => {
  it('counts UTF-8 bytes, not characters', () => {
    const limits = { maxContentBytes: 8 };
    expect(() => checkTextBytes('😀😀', limits, 'content')).not.toThrow();
    const error = refusal(() => checkTextBytes('😀😀!', limits, 'content'));
    expect(error.message).toBe('content is 9 bytes; the limit maxContentBytes is 8');
    expect(error.details).toEqual({ limit: 'maxContentBytes', max: 8, actual: 9, field: 'content' });
  });
});
