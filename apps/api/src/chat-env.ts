import { CHAT_CONCURRENCY } from '@threadstore/contract';
import type { ChatDefaults, ModelPrice } from '@threadstore/domain';
import { envBoolean } from '@threadstore/runtime';
import * as z from 'zod';

const ZPrices = z.record(
  z.string().min(1),
  z.strictObject({
    prompt: z.string().regex(/^\d+(\.\d+)?$/),
    completion: z.string().regex(/^\d+(\.\d+)?$/),
  }),
);

/** The conversation loop's environment: what answers when a project's settings say nothing. */
export const chatEnvShape = {
  // `builtin` answers deterministically with no model at all; `openai` calls CHAT_OPENAI_BASE_URL.
  CHAT_RESPONDER: z.enum(['builtin', 'openai']).default('builtin'),
  CHAT_MODEL: z.string().trim().min(1).default('threadstore-builtin'),
  CHAT_SYSTEM_PROMPT: z.string().default(''),
  CHAT_CONCURRENCY: z.enum(CHAT_CONCURRENCY).default('reject'),
  CHAT_STOP_ON_DISCONNECT: envBoolean.default(false),
  CHAT_CONTEXT_TOKENS: z.coerce.number().int().min(1).default(8_000),
  CHAT_FLUSH_INTERVAL_MS: z.coerce.number().int().min(10).default(250),
  // Price per token by model, exact decimals: {"gpt-4o-mini":{"prompt":"0.00000015","completion":"0.0000006"}}.
  CHAT_PRICES: z
    .string()
    .default('{}')
    .transform((text, ctx) => {
      try {
        return ZPrices.parse(JSON.parse(text));
      } catch {
        ctx.addIssue({
          code: 'custom',
          message: 'must be a JSON object {model: {prompt, completion}} of decimal strings',
        });
        return z.NEVER;
      }
    }),
  CHAT_OPENAI_BASE_URL: z.url({ protocol: /^https?$/ }).default('https://api.openai.com/v1'),
  CHAT_OPENAI_API_KEY: z.string().min(1).optional(),
  CHAT_OPENAI_TIMEOUT_MS: z.coerce.number().int().min(1).default(60_000),
  CHAT_OPENAI_MAX_RETRIES: z.coerce.number().int().min(0).default(3),
  CHAT_OPENAI_RETRY_BASE_MS: z.coerce.number().int().min(0).default(500),
  CHAT_BUILTIN_TOKEN_DELAY_MS: z.coerce.number().int().min(0).default(0),
};

export const chatEnvSchema = z.object(chatEnvShape);
export type ChatEnv = z.output<typeof chatEnvSchema>;

export function chatDefaultsFrom(env: ChatEnv): ChatDefaults {
  return {
    responder: env.CHAT_RESPONDER,
    model: env.CHAT_MODEL,
    systemPrompt: env.CHAT_SYSTEM_PROMPT,
    concurrency: env.CHAT_CONCURRENCY,
    stopOnDisconnect: env.CHAT_STOP_ON_DISCONNECT,
    contextTokens: env.CHAT_CONTEXT_TOKENS,
    flushIntervalMs: env.CHAT_FLUSH_INTERVAL_MS,
    prices: env.CHAT_PRICES as Record<string, ModelPrice>,
    openai: {
      baseUrl: env.CHAT_OPENAI_BASE_URL,
      apiKey: env.CHAT_OPENAI_API_KEY ?? null,
      timeoutMs: env.CHAT_OPENAI_TIMEOUT_MS,
      maxRetries: env.CHAT_OPENAI_MAX_RETRIES,
      retryBaseMs: env.CHAT_OPENAI_RETRY_BASE_MS,
    },
    builtinTokenDelayMs: env.CHAT_BUILTIN_TOKEN_DELAY_MS,
  };
}
