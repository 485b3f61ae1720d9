import { randomUUID } from 'node:crypto';
import { EventSource } from 'eventsource';
import { describe, expect, it } from 'vitest';
import { useApiServer } from '../test/api-server.ts';
import { createThreadstoreClient } from './index.ts';

describe('subscriptions through the typed client in Node (SSE)', () => {
  const api = useApiServer({ CHAT_BUILTIN_TOKEN_DELAY_MS: 5 });

  it('streams an answer with chat.stream and follows a session with sessions.watch', async () => {
    const client = createThreadstoreClient({ url: api.url, auth: { anonymousId: randomUUID() }, EventSource });
    const session = await client.sessions.create.mutate({ title: 'live' });
    const watched: string[] = [];
    const watching = new Promise<void>((resolve, reject) => {
      const subscription = client.sessions.watch.subscribe(
        { sessionId: session.id },
        {
          onData: ({ data }) => {
            if (data.type !== 'message') return;
            watched.push(`${data.message.role}:${data.generationStatus ?? '-'}`);
            if (data.generationStatus === 'complete') {
              subscription.unsubscribe();
              resolve();
            }
          },
          onError: reject,
        },
      );
    });
    const turn = await client.chat.send.mutate({ sessionId: session.id, content: 'hello', wait: false });
    const text = await new Promise<string>((resolve, reject) => {
      let received = '';
      const subscription = client.chat.stream.subscribe(
        { turnId: turn.id },
        {
          onData: ({ data }) => {
            if (data.type === 'delta') received += data.text;
            else {
              subscription.unsubscribe();
              resolve(received);
            }
          },
          onError: reject,
        },
      );
    });
    expect(text).toBe('You said: hello (1 messages in context)');
    await watching;
    expect(watched[0]).toBe('user:-');
    expect(watched.at(-1)).toBe('assistant:complete');
  });

  it('says what to pass when Node has no EventSource', async () => {
    const client = createThreadstoreClient({ url: api.url, auth: { anonymousId: randomUUID() } });
    const error = await new Promise((resolve) => {
      client.sessions.watchList.subscribe({}, { onError: resolve, onData: () => undefined });
    });
    expect(String(error)).toMatch(/pass createThreadstoreClient\(\{ EventSource \}\)/);
  });
});
