import * as z from 'zod';

/**
 * How a project's conversations are answered (read by the conversation loop, chat.send).
 * Part of the versioned project settings (ZProjectSettings, version 1).
 */
export const ZProjectChatSettings = z.strictObject({
  /** Which responder answers: the built-in deterministic one, or an OpenAI-compatible endpoint. */
  responder: z.enum(['builtin', 'openai']).optional(),
  /** The model name sent to the responder (and looked up in the price table). */
  model: z.string().trim().min(1).max(200).optional(),
  /** Sent first in every prompt of this project's conversations. */
  systemPrompt: z.string().max(20_000).optional(),
  /** What a second send does while an answer is still being generated. */
  concurrency: z.enum(['reject', 'enqueue', 'interrupt']).optional(),
  /** Stop generating when the last listener disconnects (default: keep generating). */
  stopOnDisconnect: z.boolean().optional(),
});
export type ProjectChatSettings = z.output<typeof ZProjectChatSettings>;
