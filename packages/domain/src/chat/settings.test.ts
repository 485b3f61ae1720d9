import { describe, expect, it } from 'vitest';
import { resolveChatSettings, type ChatDefaults } from './settings.ts';

const DEFAULTS: ChatDefaults = {
  responder: 'builtin',
  model: 'default-model',
  systemPrompt: 'default prompt',
  concurrency: 'reject',
  stopOnDisconnect: false,
  contextTokens: 1000,
  flushIntervalMs: 250,
  prices: {},
  openai: { baseUrl: 'http://127.0.0.1:1/v1', apiKey: null, timeoutMs: 1000, maxRetries: 0, retryBaseMs: 1 },
  builtinTokenDelayMs: 0,
};

describe("a project's chat settings over the environment's", () => {
  it('take what the project sets and the defaults for the rest', () => {
    expect(resolveChatSettings({ responder: 'openai', model: 'gpt-x', concurrency: 'enqueue' }, DEFAULTS)).toEqual({
      responder: 'openai',
      model: 'gpt-x',
      systemPrompt: 'default prompt',
      concurrency: 'enqueue',
      stopOnDisconnect: false,
    });
  });

  it.each([
    ['absent', undefined],
    ['null', null],
    ['not an object', 'openai'],
    ['an unknown responder', { responder: 'anthropic' }],
    ['an unknown key', { responder: 'openai', temperature: 2 }],
  ])('fall back to the defaults as a whole when %s', (_, chat) => {
    expect(resolveChatSettings(chat, DEFAULTS)).toEqual({
      responder: 'builtin',
      model: 'default-model',
      systemPrompt: 'default prompt',
      concurrency: 'reject',
      stopOnDisconnect: false,
    });
  });
});
