import type { EntityManager } from '@threadstore/db';
import { memoriesContext } from '../memories/context.ts';
import type { Principal } from '../principal.ts';

/** One memory placed in a prompt. */
export interface PromptMemory {
  id: string;
  content: string;
}

export interface MemoriesQuery {
  /** The user's message the answer is for. */
  query: string;
  projectId?: string;
  agent?: string;
  limit?: number;
  tokenBudget?: number;
}

/**
 * Where the conversation loop gets "the user's best memories for this prompt": by default the
 * memories domain (`storedMemories`, the same ranking as `memories.context`); tests and
 * benchmarks may pass another source where the ConversationLoop is created (`memories` option).
 */
export interface MemoriesSource {
  forPrompt(em: EntityManager, principal: Principal, query: MemoriesQuery): Promise<PromptMemory[]>;
}

/** No memories at all. */
export const noMemories: MemoriesSource = { forPrompt: () => Promise.resolve([]) };

/** The caller's stored memories ranked for the prompt, exactly as `memories.context` answers. */
export const storedMemories: MemoriesSource = {
  async forPrompt(em, principal, query) {
    const context = await memoriesContext(em, principal, query);
    return context.items.map(({ memory }) => ({ id: memory.id, content: memory.content }));
  },
};
