import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTENT_LIMITS, ZCreateMemoryInput } from '@threadstore/contract';
import { useTestDatabase } from '@threadstore/db/testing';
import { createMemory } from '../memories/memories.ts';
import { actorFor, anonymousPrincipal, createTestUser } from '../testing/index.ts';
import { storedMemories } from './memories.ts';

describe("the conversation loop's memories (storedMemories, the loop's default source)", () => {
  const testDb = useTestDatabase();

  it("puts the caller's own matching memories in a prompt, never another user's", async () => {
    const em = testDb.orm.em.fork();
    const alice = await createTestUser(em, { name: 'alice' });
    const bob = await createTestUser(em, { name: 'bob' });
    const remember = (principal: typeof alice.principal, content: string) =>
      createMemory(
        testDb.orm.em.fork(),
        actorFor(principal),
        ZCreateMemoryInput.parse({ content }),
        DEFAULT_CONTENT_LIMITS,
      );
    const { memory } = await remember(alice.principal, 'Alice wants every answer in Portuguese');
    await remember(bob.principal, 'Bob wants every answer in German');

    const found = await storedMemories.forPrompt(testDb.orm.em.fork(), alice.principal, {
      query: 'In which language should the answer be?',
    });
    expect(found).toEqual([{ id: memory.id, content: 'Alice wants every answer in Portuguese' }]);
    expect(
      await storedMemories.forPrompt(testDb.orm.em.fork(), anonymousPrincipal(), { query: 'answer language' }),
    ).toEqual([]);
  });
});
