import * as z from 'zod';
import { ZId, ZJsonObject } from './common.ts';
import { ZMessage } from './messages.ts';
import { ZSession } from './sessions.ts';

/** What a second send does while an answer is still being generated in the same session. */
export const CHAT_CONCURRENCY = ['reject', 'enqueue', 'interrupt'] as const;
export const ZChatConcurrency = z.enum(CHAT_CONCURRENCY);
export type TChatConcurrency = z.infer<typeof ZChatConcurrency>;

const ZClientMessageId = z
  .string()
  .min(1)
  .max(255)
  .refine((s) => s.isWellFormed() && !s.includes('\0'), 'must be valid Unicode without NUL characters');

/**
 * One user message for the conversation loop. `clientMessageId` makes a retried send return the
 * same turn without calling the model again. `wait` (default true) answers once the answer is
 * finished; false answers as soon as the user's message is committed (then follow `chat.stream`).
 */
export const ZChatSendInput = z.strictObject({
  sessionId: ZId,
  content: z.string().min(1),
  clientMessageId: ZClientMessageId.optional(),
  /** Overrides the project's (and the server's) strategy for this send. */
  concurrency: ZChatConcurrency.optional(),
  wait: z.boolean().optional(),
  /**
   * Sends `content` as an edit of this earlier user message of the session and answers it anew:
   * the new message takes the edited one's place in the conversation (same predecessor, `editOf`
   * naming it), the model sees the history up to it and not what followed the edited message, and
   * the old message and its answer stay untouched on their own branch (`messages.thread`).
   */
  editOf: ZId.optional(),
});
export type TChatSendInput = z.infer<typeof ZChatSendInput>;

export const TURN_STATUSES = ['queued', 'running', 'completed', 'incomplete', 'interrupted', 'cancelled'] as const;
export const ZTurnStatus = z.enum(TURN_STATUSES);

export const GENERATION_STATUSES = ['generating', 'complete', 'incomplete', 'interrupted'] as const;
export const ZGenerationStatus = z.enum(GENERATION_STATUSES);

/** What was sent to the model for an answer, so anyone can see why it said what it said. */
export const ZContextRecord = z.object({
  messageIds: z.array(ZId),
  memoryIds: z.array(z.string()),
  systemPrompt: z.boolean(),
  tokenEstimate: z.number().int().nonnegative(),
  tokenBudget: z.number().int().nonnegative(),
  responder: z.string(),
  model: z.string(),
});
export type TContextRecord = z.infer<typeof ZContextRecord>;

/** One send and its answer. `answer` is null while the turn is queued behind another. */
export const ZChatTurn = z.object({
  id: ZId,
  sessionId: ZId,
  status: ZTurnStatus,
  /** Why an answer stopped early: `cancelled`, `timeout`, `model_error`, `interrupted`, `disconnected`. */
  stopReason: z.string().nullable(),
  userMessage: ZMessage,
  answer: ZMessage.nullable(),
  generationStatus: ZGenerationStatus.nullable(),
  context: ZJsonObject.nullable(),
});
export type TChatTurn = z.infer<typeof ZChatTurn>;

export const ZChatTurnInput = z.strictObject({ turnId: ZId });
export type TChatTurnInput = z.infer<typeof ZChatTurnInput>;

/**
 * Follows one turn's answer. Each event's id is the answer's length (UTF-16 units) after it; a
 * client that reconnects with `lastEventId` gets exactly what follows, no gap and no repeat.
 */
export const ZChatStreamInput = z.strictObject({ turnId: ZId, lastEventId: z.string().max(32).nullish() });
export type TChatStreamInput = z.infer<typeof ZChatStreamInput>;

export const ZChatStreamEvent = z.discriminatedUnion('type', [
  /** `text` continues the answer at `offset`. */
  z.object({ type: z.literal('delta'), offset: z.number().int().nonnegative(), text: z.string() }),
  /** The turn finished (completed or stopped); the last event of the stream. */
  z.object({ type: z.literal('done'), turn: ZChatTurn }),
]);
export type TChatStreamEvent = z.infer<typeof ZChatStreamEvent>;

/**
 * Follows one session: its state (status, cost, version), new messages and answers as they grow.
 * Reconnecting with `lastEventId` catches up on everything missed since.
 */
export const ZWatchSessionInput = z.strictObject({ sessionId: ZId, lastEventId: z.string().max(64).nullish() });
export type TWatchSessionInput = z.infer<typeof ZWatchSessionInput>;

export const ZSessionWatchEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('session'), session: ZSession }),
  /** A new message, or a newer state of one (an answer that grew, was completed or stopped). */
  z.object({ type: z.literal('message'), message: ZMessage, generationStatus: ZGenerationStatus.nullable() }),
]);
export type TSessionWatchEvent = z.infer<typeof ZSessionWatchEvent>;

/** Follows the caller's session list: every session of theirs that is created or changes. */
export const ZWatchSessionListInput = z.strictObject({ lastEventId: z.string().max(64).nullish() });
export type TWatchSessionListInput = z.infer<typeof ZWatchSessionListInput>;

export const ZSessionListWatchEvent = z.object({ type: z.literal('session'), session: ZSession });
export type TSessionListWatchEvent = z.infer<typeof ZSessionListWatchEvent>;
