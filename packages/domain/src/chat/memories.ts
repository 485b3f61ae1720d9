import type { EntityManager } from '@threadstore/db';
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
 * Where the conversation loop gets "the user's best memories for this prompt". The seam for the
 * knowledge domain's `memoriesContext(em, principal, {query, projectId?, agent?, limit?, tokenBudget?})`:
 * wire it with `{ forPrompt: (em, principal, query) => memoriesContext(em, principal, query).then(…) }`
 * where the ConversationLoop is created (apps/api/src/server.ts, `memories` option).
 */
export interface MemoriesSource {
  forPrompt(em: EntityManager, principal: Principal, query: MemoriesQuery): Promise<PromptMemory[]>;
}

/** Until the knowledge domain lands: no memories. */
export const noMemories: MemoriesSource = { forPrompt: () => Promise.resolve([]) };
