import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useApiServer } from '../test/api-server.ts';
import { memoryStorage } from '../test/memory-storage.ts';
import * as threadstoreClient from './index.ts';
import { createThreadstoreClient, isThreadstoreClientError, rememberedAnonymousId, type TMessage } from './index.ts';

const README = resolve(import.meta.dirname, '../../../README.md');
const README_URL = "'https://threadstore.example.com/trpc'";

/** The lines of a code snippet without imports, blank lines and their indentation. */
function codeLines(snippet: string): string[] {
  return snippet
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('import '));
}

describe('the README example of the typed client', () => {
  const api = useApiServer();

  it('loads an anonymous visitor’s conversation, appends a message, and finds it on the next visit', async () => {
    const localStorage = memoryStorage();
    const rendered: TMessage[] = [];
    const renderMessages = (messages: TMessage[]) => rendered.push(...messages);

    // #region readme
    // The visitor is known by a random id this browser keeps, until they sign in.
    const threadstore = createThreadstoreClient({
      url: api.url,
      auth: { anonymousId: rememberedAnonymousId(localStorage) },
    });

    // The page's conversation: created on the first visit, the same one on every later visit.
    const { session } = await threadstore.sessions.getOrCreate.mutate({ clientKey: 'support', title: 'Support' });

    // The latest 50 messages, oldest first. To scroll back, pass `before: history.items[0].seq`.
    const history = await threadstore.messages.history.query({ sessionId: session.id });
    renderMessages(history.items);

    // The key is made once per message the visitor sends and reused for every retry of it.
    const question = {
      sessionId: session.id,
      role: 'user' as const,
      content: 'Where is my order?',
      clientMessageId: crypto.randomUUID(),
    };
    const sent = await threadstore.messages.append.mutate(question).catch((error: unknown) => {
      // No answer (network down, timeout): the message may or may not be stored. Sending it again
      // with the same clientMessageId returns the stored one instead of adding a second.
      if (isThreadstoreClientError(error) && error.data === undefined) {
        return threadstore.messages.append.mutate(question);
      }
      throw error;
    });
    renderMessages([sent]);
    // #endregion readme

    expect(sent).toMatchObject({
      sessionId: session.id,
      seq: 1,
      role: 'user',
      content: 'Where is my order?',
      clientMessageId: question.clientMessageId,
    });
    expect(rendered).toEqual([sent]);

    const nextVisit = createThreadstoreClient({
      url: api.url,
      auth: { anonymousId: rememberedAnonymousId(localStorage) },
    });
    const again = await nextVisit.sessions.getOrCreate.mutate({ clientKey: 'support', title: 'Support' });
    expect(again).toMatchObject({ created: false, session: { id: session.id, messageCount: 1 } });
    const { items } = await nextVisit.messages.history.query({ sessionId: session.id });
    expect(items).toEqual([sent]);
  });

  it('is, line for line, the code the README shows', () => {
    const readme = readFileSync(README, 'utf8');
    const section = readme.slice(readme.indexOf('## Using the typed client'));
    const shown = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    const tested = /\/\/ #region readme\n([\s\S]*?)\/\/ #endregion readme/.exec(
      readFileSync(import.meta.filename, 'utf8'),
    );
    expect(shown).toBeDefined();
    expect(codeLines(tested![1]!.replace('url: api.url', `url: ${README_URL}`))).toEqual(codeLines(shown!));

    const imported = /^import \{ (.+) \} from '@threadstore\/client';$/m.exec(shown!)?.[1]?.split(', ');
    expect(imported).toEqual(['createThreadstoreClient', 'isThreadstoreClientError', 'rememberedAnonymousId']);
    expect(Object.keys(threadstoreClient)).toEqual(expect.arrayContaining(imported!));
  });
});
