import { describe, expect, it } from 'vitest';
import { memoryStorage } from '../test/memory-storage.ts';
import { ANONYMOUS_ID_STORAGE_KEY, rememberedAnonymousId } from './anonymous-id.ts';

describe('rememberedAnonymousId', () => {
  it('creates a random UUID once and returns the stored one from then on', () => {
    const storage = memoryStorage();
    const first = rememberedAnonymousId(storage);
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(storage.entries.get(ANONYMOUS_ID_STORAGE_KEY)).toBe(first);
    expect(rememberedAnonymousId(storage)).toBe(first);
  });

  it('keeps separate ids under separate keys', () => {
    const storage = memoryStorage();
    expect(rememberedAnonymousId(storage, 'app-a')).not.toBe(rememberedAnonymousId(storage, 'app-b'));
  });

  it('replaces a stored value the API would refuse', () => {
    const storage = memoryStorage({ [ANONYMOUS_ID_STORAGE_KEY]: 'not-a-uuid' });
    const id = rememberedAnonymousId(storage);
    expect(id).not.toBe('not-a-uuid');
    expect(storage.entries.get(ANONYMOUS_ID_STORAGE_KEY)).toBe(id);
  });
});
