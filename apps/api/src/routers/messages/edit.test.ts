import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { TMessageContent, TMessagePart } from '@threadstore/contract';
import { useTestDatabase } from '@threadstore/db/testing';
import { drainSearchQueue } from '@threadstore/domain';
import { callerAs } from '../../testing/caller.ts';
import { auditRows, createSession, refusal, signedInUser, userWithSession as sessionFor } from './testing.ts';

describe('messages.edit and messages.versions', () => {
  const testDb = useTestDatabase();

  const userWithSession = () => sessionFor(testDb.orm);

  it('edits content, parts and metadata, keeping every earlier version with who and when', async () => {
    const { user, sessionId, api } = await userWithSession();
    const original = await api.messages.append({ sessionId, role: 'user', content: 'first', metadata: { a: 1 } });
    const parts: TMessagePart[] = [
      { type: 'text', text: 'second' },
      { type: 'file', url: 'https://x.test/f.png', mediaType: 'image/png', size: 10 },
    ];
    const second = await api.messages.edit({ id: original.id, content: parts, expectedVersion: 1 });
    expect(second).toMatchObject({ content: 'second', parts, version: 2, edited: true, metadata: { a: 1 } });
    expect(second.editedAt).not.toBeNull();
    const third = await api.messages.edit({ id: original.id, metadata: { b: 2 } });
    expect(third).toMatchObject({ content: 'second', parts, version: 3, metadata: { b: 2 } });
    const fourth = await api.messages.edit({ id: original.id, content: 'back to text' });
    expect(fourth).toMatchObject({ content: 'back to text', parts: null, version: 4 });
    // Everything but what an edit changes is as appended.
    for (const key of ['id', 'sessionId', 'seq', 'role', 'parentId', 'createdAt', 'sanitized', 'editOf'] as const) {
      expect(fourth[key], key).toEqual(original[key]);
    }

    const { items } = await api.messages.versions({ id: original.id });
    const editor = { actorType: 'user', actorId: user.kind === 'user' ? user.userId : '' };
    expect(items.map(({ createdAt: _, ...rest }) => rest)).toEqual([
      {
        version: 1,
        content: 'first',
        parts: null,
        metadata: { a: 1 },
        sanitized: false,
        editedBy: null,
        current: false,
      },
      { version: 2, content: 'second', parts, metadata: { a: 1 }, sanitized: false, editedBy: editor, current: false },
      { version: 3, content: 'second', parts, metadata: { b: 2 }, sanitized: false, editedBy: editor, current: false },
      {
        version: 4,
        content: 'back to text',
        parts: null,
        metadata: { b: 2 },
        sanitized: false,
        editedBy: editor,
        current: true,
      },
    ]);
    expect(items[0]!.createdAt).toBe(original.createdAt);
    expect(items[3]!.createdAt).toBe(fourth.editedAt);
    const [fromHistory] = (await api.messages.history({ sessionId })).items;
    expect(fromHistory).toEqual(fourth);

    const audit = (await auditRows(testDb.orm, 'messages.edit')).filter((row) => row.subjectId === original.id);
    expect(audit.map((row) => row.details)).toEqual([
      { sessionId, seq: 1, fromVersion: 1, toVersion: 2, changed: ['content'] },
      { sessionId, seq: 1, fromVersion: 2, toVersion: 3, changed: ['metadata'] },
      { sessionId, seq: 1, fromVersion: 3, toVersion: 4, changed: ['content'] },
    ]);
    expect(audit.every((row) => row.actorType === 'user' && row.actorId === editor.actorId)).toBe(true);
  });

  it('answers a stale expectedVersion with CONFLICT and bad input with BAD_REQUEST, writing nothing', async () => {
    const { sessionId, api } = await userWithSession();
    const message = await api.messages.append({ sessionId, role: 'user', content: 'v1' });
    await api.messages.edit({ id: message.id, content: 'v2' });
    const stale = await refusal(api.messages.edit({ id: message.id, content: 'lost update', expectedVersion: 1 }));
    expect(stale.code).toBe('CONFLICT');
    expect((stale.cause as { details?: unknown }).details).toEqual({ version: 2, expectedVersion: 1 });
    for (const input of [
      { id: message.id, content: [{ type: 'text', text: 'nul\0' }] },
      { id: message.id, content: [{ type: 'nope' }] },
      { id: message.id, content: [] },
      { id: message.id },
      { id: message.id, content: 'x'.repeat(300_000) },
      { id: message.id, metadata: { deep: JSON.parse('['.repeat(50) + ']'.repeat(50)) } },
    ]) {
      expect((await refusal(api.messages.edit(input as never))).code, JSON.stringify(input).slice(0, 80)).toBe(
        'BAD_REQUEST',
      );
    }
    const { items } = await api.messages.versions({ id: message.id });
    expect(items.map((v) => v.content)).toEqual(['v1', 'v2']);
    expect((await api.messages.get({ id: message.id })).version).toBe(2);
  });

  it('lets concurrent edits queue on the row: none is lost, versions stay gapless', async () => {
    const { sessionId, api } = await userWithSession();
    const message = await api.messages.append({ sessionId, role: 'user', content: 'v1' });
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => api.messages.edit({ id: message.id, content: `edit ${i}` })),
    );
    expect(results.map((m) => m.version).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    const { items } = await api.messages.versions({ id: message.id });
    expect(items.map((v) => v.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Each version is what the edit that made it wrote.
    for (const result of results) expect(items[result.version - 1]!.content).toBe(result.content);
  });

  it('re-indexes an edited message: search finds the new text and no longer the old', async () => {
    const { sessionId, api } = await userWithSession();
    const message = await api.messages.append({ sessionId, role: 'user', content: 'the aardvark digs' });
    const index = () => drainSearchQueue(testDb.orm.em.fork(), { batchSize: 100 });
    await index();
    expect((await api.messages.search({ query: 'aardvark' })).items).toHaveLength(1);
    const edited = await api.messages.edit({ id: message.id, content: [{ type: 'text', text: 'the pangolin rolls' }] });
    await index();
    expect((await api.messages.search({ query: 'aardvark' })).items).toEqual([]);
    expect((await api.messages.search({ query: 'pangolin' })).items.map((hit) => hit.message)).toEqual([edited]);
    // A metadata edit leaves the index alone and the message still found.
    await api.messages.edit({ id: message.id, metadata: { tag: 'x' } });
    await index();
    expect((await api.messages.search({ query: 'pangolin' })).items).toHaveLength(1);
  });

  it('refuses to edit a deleted message, or an answer still being generated', async () => {
    const { sessionId, api } = await userWithSession();
    const message = await api.messages.append({ sessionId, role: 'user', content: 'x' });
    await api.messages.edit({ id: message.id, content: 'y' });
    await api.messages.delete({ id: message.id });
    expect((await refusal(api.messages.edit({ id: message.id, content: 'z' }))).code).toBe('NOT_FOUND');
    expect((await refusal(api.messages.versions({ id: message.id }))).code).toBe('NOT_FOUND');
    const answer = await api.messages.append({ sessionId, role: 'assistant', content: '' });
    await testDb.orm.em
      .fork()
      .execute(`update chat_messages set generation_status = 'generating' where id = ?`, [answer.id]);
    expect((await refusal(api.messages.edit({ id: answer.id, content: 'meddled' }))).code).toBe('CONFLICT');
  });
});

type Op =
  | {
      kind: 'edit';
      pick: number;
      text: string;
      asParts: boolean;
      metadata: boolean;
      expect: 'current' | 'stale' | 'none';
    }
  | { kind: 'restore'; pick: number; back: number }
  | { kind: 'delete'; pick: number };

interface ModelVersion {
  content: string;
  parts: TMessagePart[] | null;
  metadata: Record<string, unknown>;
}

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('edit' as const),
      pick: fc.nat(),
      text: fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !s.includes('\0')),
      asParts: fc.boolean(),
      metadata: fc.boolean(),
      expect: fc.constantFrom('current' as const, 'stale' as const, 'none' as const),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('restore' as const), pick: fc.nat(), back: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
);

describe('edit history against a model (property)', () => {
  const testDb = useTestDatabase();

  it('random edits, restores of earlier versions and deletes agree with the model: versions, current content, edited marker', async () => {
    const user = await signedInUser(testDb.orm);
    const api = callerAs(testDb.orm, user);
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 15 }), async (ops) => {
        const sessionId = await createSession(testDb.orm, user);
        const { items } = await api.messages.appendMany({
          sessionId,
          messages: ['a', 'b', 'c'].map((content) => ({ role: 'user' as const, content })),
        });
        const model = new Map<string, { versions: ModelVersion[]; deleted: boolean }>(
          items.map((m) => [m.id, { versions: [{ content: m.content, parts: null, metadata: {} }], deleted: false }]),
        );
        const ids = items.map((m) => m.id);
        for (const op of ops) {
          const id = ids[op.pick % ids.length]!;
          const entry = model.get(id)!;
          const latest = entry.versions.at(-1)!;
          if (op.kind === 'delete') {
            await api.messages.delete({ id });
            entry.deleted = true;
            continue;
          }
          let content: TMessageContent;
          let metadata: Record<string, unknown> | undefined;
          let expectedVersion: number | undefined;
          if (op.kind === 'edit') {
            content = op.asParts
              ? [
                  { type: 'text', text: op.text },
                  { type: 'reasoning', text: 'r' },
                ]
              : op.text;
            metadata = op.metadata ? { n: entry.versions.length } : undefined;
            expectedVersion =
              op.expect === 'none'
                ? undefined
                : op.expect === 'current'
                  ? entry.versions.length
                  : entry.versions.length + 1;
          } else {
            // Restoring version k is editing back to what version k said, as read from the versions.
            if (entry.deleted) {
              expect((await refusal(api.messages.versions({ id }))).code).toBe('NOT_FOUND');
              continue;
            }
            const { items: versions } = await api.messages.versions({ id });
            const old = versions[op.back % versions.length]!;
            content = old.parts ?? old.content;
            metadata = old.metadata;
          }
          const call = api.messages.edit({
            id,
            content,
            ...(metadata === undefined ? {} : { metadata }),
            ...(expectedVersion === undefined ? {} : { expectedVersion }),
          });
          if (entry.deleted) {
            expect((await refusal(call)).code).toBe('NOT_FOUND');
          } else if (op.kind === 'edit' && op.expect === 'stale') {
            expect((await refusal(call)).code).toBe('CONFLICT');
          } else {
            const next: ModelVersion = {
              content:
                typeof content === 'string'
                  ? content
                  : content.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('\n\n'),
              parts: typeof content === 'string' ? null : content,
              metadata: metadata ?? latest.metadata,
            };
            entry.versions.push(next);
            const edited = await call;
            expect(edited).toMatchObject({ ...next, version: entry.versions.length, edited: true });
          }
        }
        // The whole state, read back three ways.
        const history = (await api.messages.history({ sessionId })).items;
        expect(history.map((m) => m.id)).toEqual(ids.filter((id) => !model.get(id)!.deleted));
        for (const message of history) {
          const { versions } = model.get(message.id)!;
          expect(message).toMatchObject({
            ...versions.at(-1),
            version: versions.length,
            edited: versions.length > 1,
          });
          expect(message.editedAt === null).toBe(versions.length === 1);
          const stored = await api.messages.versions({ id: message.id });
          expect(
            stored.items.map(({ content, parts, metadata, version, current }) => ({
              content,
              parts,
              metadata,
              version,
              current,
            })),
          ).toEqual(versions.map((v, i) => ({ ...v, version: i + 1, current: i === versions.length - 1 })));
          // Oldest first, each no older than the one before.
          const times = stored.items.map((v) => v.createdAt);
          expect(times).toEqual([...times].sort());
        }
      }),
      { numRuns: 25 },
    );
  });
});
