import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import * as contract from './index.ts';

const inputSchemas: [string, z.ZodType][] = Object.entries(contract).flatMap(([name, value]) =>
  /^Z\w+Input$/.test(name) && value instanceof z.ZodType ? [[name, value as z.ZodType]] : [],
);

describe('the contract', () => {
  it('has input schemas to check', () => {
    expect(inputSchemas.map(([name]) => name)).toEqual(
      expect.arrayContaining(['ZAppendMessageInput', 'ZCreateSessionInput', 'ZRunJobInput', 'ZSignUpInput']),
    );
  });

  // A field a caller may not set (owner, role, counters) must be refused, not silently dropped,
  // so a client that tries learns it at once and nothing reaches the server unchecked.
  it.each(inputSchemas)('%s refuses fields it does not declare', (_name, schema) => {
    const probe = { userId: '00000000-0000-7000-8000-000000000000', role: 'admin', messageCount: 9 };
    const result = schema.safeParse(probe);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.code)).toContain('unrecognized_keys');
  });

  it('takes money as exact decimal strings, never floats', () => {
    for (const good of ['0', '12.5', '0.0000000001', '9999999999.9999999999']) {
      expect(contract.ZMoney.safeParse(good).success, good).toBe(true);
    }
    for (const bad of [1.5, '-1', '1e3', '0.00000000001', '12.', '']) {
      expect(contract.ZMoney.safeParse(bad).success, String(bad)).toBe(false);
    }
  });

  it('keeps its default page size within its maximum', () => {
    const limits = contract.DEFAULT_CONTENT_LIMITS;
    expect(limits.defaultPageSize).toBeLessThanOrEqual(limits.maxPageSize);
  });

  // The client bundles this package into browsers: one server import here would drag a database
  // driver into every frontend.
  it('imports nothing but zod and its own files', () => {
    const sources = readdirSync(import.meta.dirname).filter(
      (file) => file.endsWith('.ts') && !file.endsWith('.test.ts'),
    );
    for (const file of sources) {
      const imports = [...readFileSync(join(import.meta.dirname, file), 'utf8').matchAll(/from '([^']+)'/g)].map(
        (match) => match[1],
      );
      for (const source of imports) expect(source, `${file} imports ${source}`).toMatch(/^(zod|\.\/[\w-]+\.ts)$/);
    }
  });
});
