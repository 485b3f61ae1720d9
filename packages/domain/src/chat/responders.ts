import { createParser } from 'eventsource-parser';
import type { ChatDefaults } from './settings.ts';

/** A message of the prompt, in the chat-completions shape every responder takes. */
export interface PromptMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ResponderRequest {
  model: string;
  messages: readonly PromptMessage[];
  /** Aborted when the turn is cancelled or interrupted; the responder stops at once. */
  signal: AbortSignal;
}

export type ResponderEvent =
  { type: 'delta'; text: string } | { type: 'usage'; promptTokens: number; completionTokens: number };

/** Produces an answer as a stream of deltas (and, when it knows them, the token counts). */
export interface Responder {
  readonly name: string;
  respond(request: ResponderRequest): AsyncIterable<ResponderEvent>;
}

/** Why a responder gave up: the turn keeps the partial answer with this stop reason. */
export class ResponderError extends Error {
  readonly reason: 'timeout' | 'model_error';
  constructor(reason: 'timeout' | 'model_error', message: string) {
    super(message);
    this.reason = reason;
    this.name = 'ResponderError';
  }
}

/** A rough token count (4 characters a token), for budgets and for responders that report none. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * The default responder: answers without any model, deterministically (same prompt, same answer),
 * so the product works out of the box and tests know what to expect.
 */
export function builtinResponder({ tokenDelayMs = 0 }: { tokenDelayMs?: number } = {}): Responder {
  return {
    name: 'builtin',
    async *respond({ messages, signal }) {
      const question = [...messages].reverse().find((message) => message.role === 'user')?.content ?? '';
      const answer = `You said: ${question} (${messages.length} messages in context)`;
      const tokens = answer.match(/\s*\S+/g) ?? [];
      for (const token of tokens) {
        if (signal.aborted) return;
        if (tokenDelayMs > 0) await sleep(tokenDelayMs, signal);
        yield { type: 'delta', text: token };
      }
      yield {
        type: 'usage',
        promptTokens: messages.reduce((sum, message) => sum + estimateTokens(message.content), 0),
        completionTokens: tokens.length,
      };
    },
  };
}

/**
 * An OpenAI-compatible chat-completions endpoint, streamed. Retries a 429, a 5xx or a failed
 * connection with exponential backoff (honouring Retry-After) as long as no part of the answer
 * has arrived; after that a failure ends the answer where it is. Silence longer than `timeoutMs`
 * is a timeout. Token usage comes from the stream's final chunk (`stream_options.include_usage`).
 */
export function openAiResponder(options: ChatDefaults['openai'] & { fetch?: typeof fetch }): Responder {
  const doFetch = options.fetch ?? fetch;
  const endpoint = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  return {
    name: 'openai',
    async *respond({ model, messages, signal }) {
      let attempt = 0;
      for (;;) {
        const idle = new IdleTimer(options.timeoutMs);
        const aborted = AbortSignal.any([signal, idle.signal]);
        let response: Response;
        try {
          response = await doFetch(endpoint, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              accept: 'text/event-stream',
              ...(options.apiKey === null ? {} : { authorization: `Bearer ${options.apiKey}` }),
            },
            body: JSON.stringify({ model, messages, stream: true, stream_options: { include_usage: true } }),
            signal: aborted,
          });
        } catch (error) {
          idle.stop();
          if (signal.aborted) return;
          if (idle.fired)
            throw new ResponderError('timeout', `no answer from the model within ${options.timeoutMs} ms`);
          if (attempt < options.maxRetries) {
            await sleep(backoff(options.retryBaseMs, attempt++, null), signal);
            continue;
          }
          throw new ResponderError('model_error', `cannot reach the model: ${(error as Error).message}`);
        }
        if (!response.ok) {
          idle.stop();
          await response.body?.cancel().catch(() => undefined);
          if ((response.status === 429 || response.status >= 500) && attempt < options.maxRetries) {
            await sleep(backoff(options.retryBaseMs, attempt++, response.headers.get('retry-after')), signal);
            continue;
          }
          throw new ResponderError('model_error', `the model answered HTTP ${response.status}`);
        }
        yield* readStream(response, idle, signal, options.timeoutMs);
        return;
      }
    },
  };
}

interface Chunk {
  choices?: { delta?: { content?: string | null } }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
}

async function* readStream(
  response: Response,
  idle: IdleTimer,
  signal: AbortSignal,
  timeoutMs: number,
): AsyncGenerator<ResponderEvent> {
  const pending: ResponderEvent[] = [];
  let finished = false;
  let malformed: string | null = null;
  const parser = createParser({
    onEvent({ data }) {
      if (finished || malformed !== null) return;
      if (data.trim() === '[DONE]') {
        finished = true;
        return;
      }
      let chunk: Chunk;
      try {
        chunk = JSON.parse(data) as Chunk;
      } catch {
        malformed = data.slice(0, 100);
        return;
      }
      const text = chunk.choices?.[0]?.delta?.content;
      if (typeof text === 'string' && text.length > 0) pending.push({ type: 'delta', text });
      if (chunk.usage) {
        pending.push({
          type: 'usage',
          promptTokens: chunk.usage.prompt_tokens ?? 0,
          completionTokens: chunk.usage.completion_tokens ?? 0,
        });
      }
    },
  });
  const decoder = new TextDecoder();
  const reader = response.body!.getReader();
  try {
    for (;;) {
      let read: Awaited<ReturnType<typeof reader.read>>;
      try {
        read = await reader.read();
      } catch (error) {
        if (signal.aborted) return;
        if (idle.fired) throw new ResponderError('timeout', `the model went silent for ${timeoutMs} ms`);
        throw new ResponderError('model_error', `the model's stream broke: ${(error as Error).message}`);
      }
      if (read.done) break;
      idle.reset();
      parser.feed(decoder.decode(read.value, { stream: true }));
      yield* pending.splice(0);
      if (malformed !== null) throw new ResponderError('model_error', `the model sent a malformed chunk: ${malformed}`);
      if (finished) return;
    }
    if (!finished) throw new ResponderError('model_error', 'the model closed the stream before [DONE]');
  } finally {
    idle.stop();
    reader.releaseLock();
    await response.body?.cancel().catch(() => undefined);
  }
}

/** Aborts its signal when `reset` is not called for `ms`. */
class IdleTimer {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout;
  fired = false;
  private readonly ms: number;
  constructor(ms: number) {
    this.ms = ms;
    this.timer = this.arm();
  }
  get signal(): AbortSignal {
    return this.controller.signal;
  }
  reset(): void {
    clearTimeout(this.timer);
    this.timer = this.arm();
  }
  stop(): void {
    clearTimeout(this.timer);
  }
  private arm(): NodeJS.Timeout {
    return setTimeout(() => {
      this.fired = true;
      this.controller.abort(new Error('idle timeout'));
    }, this.ms);
  }
}

function backoff(baseMs: number, attempt: number, retryAfter: string | null): number {
  const seconds = retryAfter === null ? NaN : Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, 30_000);
  return baseMs * 2 ** attempt * (0.5 + Math.random() / 2);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
