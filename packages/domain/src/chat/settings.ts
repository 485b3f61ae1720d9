import { ZProjectChatSettings, type TChatConcurrency } from '@threadstore/contract';

/** The price of one token of a model, as exact decimal strings (money never passes through floats). */
export interface ModelPrice {
  prompt: string;
  completion: string;
}

/** How the loop answers when a project says nothing: the server's environment. */
export interface ChatDefaults {
  responder: 'builtin' | 'openai';
  model: string;
  systemPrompt: string;
  concurrency: TChatConcurrency;
  stopOnDisconnect: boolean;
  /** Tokens of system prompt, memories and history sent to the model at most. */
  contextTokens: number;
  /** The partial answer is written at most this often while it grows. */
  flushIntervalMs: number;
  /** Price per token by model name; a model not listed costs nothing. */
  prices: Record<string, ModelPrice>;
  openai: {
    baseUrl: string;
    apiKey: string | null;
    /** Give up when the model sends nothing for this long (before or during the answer). */
    timeoutMs: number;
    /** Further attempts after a 429, a 5xx or a failed connection, before any of the answer arrived. */
    maxRetries: number;
    /** First backoff; doubled each retry (a Retry-After header wins). */
    retryBaseMs: number;
  };
  /** The built-in responder's pause between tokens (0: as fast as it can). */
  builtinTokenDelayMs: number;
}

export type ChatSettings = Pick<
  ChatDefaults,
  'responder' | 'model' | 'systemPrompt' | 'concurrency' | 'stopOnDisconnect'
>;

/**
 * A project's `settings.chat` over the server's defaults. Settings that do not validate are
 * ignored as a whole (the defaults apply), so a bad project setting never stops a conversation.
 */
export function resolveChatSettings(projectChat: unknown, defaults: ChatDefaults): ChatSettings {
  const parsed = ZProjectChatSettings.safeParse(projectChat ?? {});
  const project = parsed.success ? parsed.data : {};
  return {
    responder: project.responder ?? defaults.responder,
    model: project.model ?? defaults.model,
    systemPrompt: project.systemPrompt ?? defaults.systemPrompt,
    concurrency: project.concurrency ?? defaults.concurrency,
    stopOnDisconnect: project.stopOnDisconnect ?? defaults.stopOnDisconnect,
  };
}
