import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTENT_LIMITS, type TMessagePart } from '@threadstore/contract';
import { useTestDatabase } from '@threadstore/db/testing';
import { drainSearchQueue } from '@threadstore/domain';
import { refusal, storedMessages, userWithSession as sessionFor } from './testing.ts';

/** Text no part may lose or change: every script direction, emoji, markup, SQL, escapes. */
const HOSTILE = [
  'emoji 👩🏽‍💻🏳️‍🌈 and a pair \uD83D\uDE00',
  'RTL \u202Eevil\u202C مرحبا بالعالم שלום',
  '<script>alert("x")</script><img src=x onerror=alert(1)>',
  '\'; drop table chat_messages; -- " or 1=1 /* */',
  'back\\slash \\u0000 not a NUL, \\n not a newline, tab\there',
  'zero\u200Bwidth and combining e\u0301 and U+FFFF \uFFFF',
  '$1 $$ ::jsonb ${x} %s %n',
].join('\n');

/** One part of every type, each carrying the hostile text wherever it may hold text. */
function everyPart(text: string): TMessagePart[] {
  return [
    { type: 'reasoning', text: `thinking: ${text}` },
    { type: 'text', text },
    {
      type: 'tool-call',
      toolCallId: 'call_1',
      toolName: 'lookup',
      // Key order and nesting as the client wrote them.
      input: { zeta: text, alpha: [1, 2.5, true, null, { [text]: text }], nested: { b: 'b', a: 'a' } },
    },
    { type: 'tool-result', toolCallId: 'call_1', toolName: 'lookup', output: [text, { ok: false }], isError: true },
    {
      type: 'file',
      url: `s3://bucket/${encodeURIComponent(text)}`,
      mediaType: 'application/pdf',
      size: 123_456,
      name: 'Q3 report.pdf',
    },
    { type: 'citation', url: 'https://example.test/a?b=c&d=<e>', title: text, quote: text },
    { type: 'text', text: 'the end' },
  ];
}

describe('message parts', () => {
  const testDb = useTestDatabase();

  const userWithSession = () => sessionFor(testDb.orm);

  it('round-trips every part type byte for byte, hostile text included, through append, get, history and appendMany', async () => {
    const { sessionId, api } = await userWithSession();
    const parts = everyPart(HOSTILE);
    const stored = await api.messages.append({ sessionId, role: 'assistant', content: parts });
    // Byte-exact: the same JSON text, so the same order of parts and of keys inside free-form JSON.
    expect(JSON.stringify(stored.parts)).toBe(JSON.stringify(parts));
    expect(stored.content).toBe(`${HOSTILE}\n\nthe end`);
    expect(stored).toMatchObject({ sanitized: false, version: 1, edited: false, editedAt: null, editOf: null });
    expect(JSON.stringify((await api.messages.get({ id: stored.id })).parts)).toBe(JSON.stringify(parts));
    const [fromHistory] = (await api.messages.history({ sessionId })).items;
    expect(fromHistory).toEqual(stored);

    const long = 'x'.repeat(DEFAULT_CONTENT_LIMITS.maxContentBytes - 1_000);
    const batch = await api.messages.appendMany({
      sessionId,
      messages: [
        { role: 'user', content: 'plain' },
        { role: 'assistant', content: [{ type: 'text', text: long }] },
        { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'c', toolName: 't', output: HOSTILE }] },
      ],
    });
    expect(batch.items.map((m) => m.parts)).toEqual([
      null,
      [{ type: 'text', text: long }],
      [{ type: 'tool-result', toolCallId: 'c', toolName: 't', output: HOSTILE }],
    ]);
    expect(batch.items.map((m) => m.content)).toEqual(['plain', long, '']);
    expect((await api.messages.history({ sessionId })).items.slice(1)).toEqual(batch.items);
  });

  it('keeps plain-text messages exactly as before: parts null, content sanitized as always', async () => {
    const { sessionId, api } = await userWithSession();
    const stored = await api.messages.append({ sessionId, role: 'user', content: 'a\0b\uD83D' });
    expect(stored).toMatchObject({ content: 'a\uFFFDb\uFFFD', sanitized: true, parts: null, version: 1 });
  });

  it('refuses NULs, lone surrogates, unknown part types and oversized parts with BAD_REQUEST, writing nothing', async () => {
    const { sessionId, api } = await userWithSession();
    const cases: unknown[] = [
      [{ type: 'text', text: 'a\0b' }],
      [{ type: 'reasoning', text: 'lone \uD83D half' }],
      [{ type: 'tool-call', toolCallId: 'c\0', toolName: 't', input: {} }],
      [{ type: 'tool-call', toolCallId: 'c', toolName: 't', input: { deep: ['x\0'] } }],
      [{ type: 'tool-call', toolCallId: 'c', toolName: 't', input: { ['k\uDE00']: 1 } }],
      [{ type: 'tool-result', toolCallId: 'c', toolName: 't', output: 'lone \uDE00' }],
      [{ type: 'file', url: 'f', mediaType: 'not a type', size: 1 }],
      [{ type: 'file', url: 'f', mediaType: 'image/png', size: -1 }],
      [{ type: 'citation', quote: 'no url nor title' }],
      [{ type: 'citation', title: 'x\0' }],
      [{ type: 'video', url: 'x' }],
      [{ type: 'text', text: 'x', extra: true }],
      [],
      [{ type: 'text', text: 'x'.repeat(DEFAULT_CONTENT_LIMITS.maxContentBytes) }],
      [
        { type: 'text', text: 'x'.repeat(DEFAULT_CONTENT_LIMITS.maxContentBytes / 2) },
        { type: 'reasoning', text: 'y'.repeat(DEFAULT_CONTENT_LIMITS.maxContentBytes / 2) },
      ],
      [{ type: 'tool-call', toolCallId: 'c', toolName: 't', input: 'z'.repeat(DEFAULT_CONTENT_LIMITS.maxJsonBytes) }],
      [
        {
          type: 'tool-call',
          toolCallId: 'c',
          toolName: 't',
          input: JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)),
        },
      ],
    ];
    for (const [index, content] of cases.entries()) {
      const error = await refusal(
        api.messages.append({ sessionId, role: 'assistant', content: content as TMessagePart[] }),
      );
      expect(error.code, `case ${index}`).toBe('BAD_REQUEST');
      const batch = await refusal(
        api.messages.appendMany({
          sessionId,
          messages: [
            { role: 'user', content: 'fine' },
            { role: 'assistant', content: content as TMessagePart[] },
          ],
        }),
      );
      expect(batch.code, `case ${index} in a batch`).toBe('BAD_REQUEST');
    }
    expect(await storedMessages(testDb.orm, sessionId)).toEqual([]);
  });

  it('names the limit and the part it refuses', async () => {
    const { sessionId, api } = await userWithSession();
    const error = await refusal(
      api.messages.appendMany({
        sessionId,
        messages: [
          { role: 'user', content: 'fine' },
          {
            role: 'assistant',
            content: [
              { type: 'text', text: 'ok' },
              { type: 'tool-call', toolCallId: 'c', toolName: 't', input: { a: 'z'.repeat(70_000) } },
            ],
          },
        ],
      }),
    );
    expect(error.message).toMatch(/^messages\[1\]\.content\[1\]\.input is \d+ bytes as JSON; the limit maxJsonBytes/);
  });

  it('makes text parts searchable, and only text parts (not reasoning, tool calls or citations)', async () => {
    const { sessionId, api } = await userWithSession();
    const stored = await api.messages.append({
      sessionId,
      role: 'assistant',
      content: [
        { type: 'reasoning', text: 'pondering a wombat' },
        { type: 'text', text: 'The capybara' },
        { type: 'tool-call', toolCallId: 'c', toolName: 'zoo', input: { animal: 'platypus' } },
        { type: 'text', text: 'naps in the sun.' },
        { type: 'citation', title: 'Axolotl facts' },
      ],
    });
    await drainSearchQueue(testDb.orm.em.fork(), { batchSize: 100 });
    const found = await api.messages.search({ query: 'capybara sun' });
    expect(found.items.map((hit) => hit.message)).toEqual([stored]);
    expect(found.items[0]!.snippet).toContain('«capybara»');
    for (const hidden of ['wombat', 'platypus', 'axolotl']) {
      expect((await api.messages.search({ query: hidden })).items, hidden).toEqual([]);
    }
  });

  it('counts a retry with the same parts as the same message, and different parts as a CONFLICT', async () => {
    const { sessionId, api } = await userWithSession();
    const content: TMessagePart[] = [{ type: 'text', text: 'once' }];
    const first = await api.messages.append({ sessionId, role: 'user', content, clientMessageId: 'k1' });
    expect(await api.messages.append({ sessionId, role: 'user', content, clientMessageId: 'k1' })).toEqual(first);
    const other = await refusal(
      api.messages.append({
        sessionId,
        role: 'user',
        content: [{ type: 'text', text: 'twice' }],
        clientMessageId: 'k1',
      }),
    );
    expect(other.code).toBe('CONFLICT');
    // Plain text with the same key and the same words is a different message than the parts.
    expect(
      (await refusal(api.messages.append({ sessionId, role: 'user', content: 'once', clientMessageId: 'k1' }))).code,
    ).toBe('CONFLICT');
  });
});
