import type { TContextRecord } from '@threadstore/contract';
import type { EntityManager } from '@threadstore/db';
import type { Principal } from '../principal.ts';
import type { MemoriesSource } from './memories.ts';
import { estimateTokens, type PromptMessage } from './responders.ts';
import { conversationPath } from './sql.ts';

/** What a message costs in a prompt beyond its text (role, separators). */
const MESSAGE_OVERHEAD_TOKENS = 4;
/** History read back at most; a budget rarely holds more. */
const HISTORY_WINDOW = 200;

export interface AssembledContext {
  messages: PromptMessage[];
  record: TContextRecord;
}

/**
 * The prompt, assembled on the server: the system prompt, the user's best memories, then the
 * most recent history of the user's message's branch (up to and including it; see
 * `conversationPath`) that fits `tokenBudget`. The
 * newest message is always included, even alone over budget. The record says exactly what went
 * in, and is stored with the answer.
 */
export async function assembleContext(
  em: EntityManager,
  {
    principal,
    sessionId,
    projectId,
    userSeq,
    userContent,
    systemPrompt,
    tokenBudget,
    memories,
    responder,
    model,
  }: {
    principal: Principal;
    sessionId: string;
    projectId: string | null;
    userSeq: number;
    userContent: string;
    systemPrompt: string;
    tokenBudget: number;
    memories: MemoriesSource;
    responder: string;
    model: string;
  },
): Promise<AssembledContext> {
  let used = systemPrompt.length > 0 ? estimateTokens(systemPrompt) + MESSAGE_OVERHEAD_TOKENS : 0;
  // Memories and history are read at the same time, on two pooled connections: the prompt waits
  // for the slower of the two, not for both in a row (it sits before the answer's first token).
  const [found, recent] = await Promise.all([
    memories.forPrompt(em.fork(), principal, {
      query: userContent,
      ...(projectId === null ? {} : { projectId }),
      tokenBudget: Math.floor(tokenBudget / 4),
    }),
    conversationPath(em.fork(), sessionId, userSeq, HISTORY_WINDOW),
  ]);
  const memoryLines: string[] = [];
  const memoryIds: string[] = [];
  for (const memory of found) {
    const cost = estimateTokens(memory.content) + 1;
    if (used + cost > tokenBudget) break;
    used += cost;
    memoryLines.push(`- ${memory.content}`);
    memoryIds.push(memory.id);
  }
  const history: { id: string; role: PromptMessage['role']; content: string }[] = [];
  for (const message of recent) {
    const cost = estimateTokens(message.content) + MESSAGE_OVERHEAD_TOKENS;
    if (history.length > 0 && used + cost > tokenBudget) break;
    used += cost;
    history.push(message);
  }
  history.reverse();
  const system = [
    systemPrompt,
    memoryLines.length > 0 ? `What you know about the user:\n${memoryLines.join('\n')}` : '',
  ]
    .filter((part) => part.length > 0)
    .join('\n\n');
  return {
    messages: [
      ...(system.length > 0 ? [{ role: 'system' as const, content: system }] : []),
      ...history.map(({ role, content }) => ({ role, content })),
    ],
    record: {
      messageIds: history.map(({ id }) => id),
      memoryIds,
      systemPrompt: systemPrompt.length > 0,
      tokenEstimate: used,
      tokenBudget,
      responder,
      model,
    },
  };
}
