import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_CONTENT_LIMITS, type TMessage } from '@threadstore/contract';
import type { MikroORM } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import type { Principal } from '@threadstore/domain';
import { callerAs } from '../../testing/caller.ts';
import { createSession, signedInUser, softDeleteSession } from './testing.ts';

/** A session of `count` messages with content `m1`, `m2`…; `chapterOf(seq)` picks each one's chapter. */
async function sessionWith(
  orm: MikroORM,
  principal: Principal,
  count: number,
  chapterOf: (seq: number) => string | undefined = () => undefined,
): Promise<{ sessionId: string; messages: TMessage[] }> {
  const sessionId = await createSession(orm, principal);
  const { items } = await callerAs(orm, principal).messages.appendMany({
    sessionId,
    messages: Array.from({ length: count }, (_, i) => ({
      role: 'user' as const,
      content: `m${i + 1}`,
      chapter: chapterOf(i + 1),
    })),
  });
  return { sessionId, messages: items };
}

const contents = (items: readonly TMessage[]) => items.map((message) => message.content);

describe('messages.history', () => {
  const testDb = useTestDatabase();

  it('returns the latest page by default, oldest first, and says older ones exist', async () => {
    const user = await signedInUser(testDb.orm);
    const { sessionId } = await sessionWith(testDb.orm, user, 60);
    const page = await callerAs(testDb.orm, user).messages.history({ sessionId });

    expect(page.items).toHaveLength(DEFAULT_CONTENT_LIMITS.defaultPageSize);
    expect(contents(page.items)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i + 11}`));
    expect(page).toMatchObject({ hasOlder: true, hasNewer: false });
  });

  it('scrolls back with before = the first seq until nothing older is left', async () => {
    const user = await signedInUser(testDb.orm);
    const { sessionId } = await sessionWith(testDb.orm, user, 7);
    const api = callerAs(testDb.orm, user);

    const latest = await api.messages.history({ sessionId, limit: 3 });
    expect([contents(latest.items), latest.hasOlder, latest.hasNewer]).toEqual([['m5', 'm6', 'm7'], true, false]);
    const middle = await api.messages.history({ sessionId, limit: 3, before: latest.items[0]!.seq });
    expect([contents(middle.items), middle.hasOlder, middle.hasNewer]).toEqual([['m2', 'm3', 'm4'], true, true]);
    const oldest = await api.messages.history({ sessionId, limit: 3, before: middle.items[0]!.seq });
    expect([contents(oldest.items), oldest.hasOlder, oldest.hasNewer]).toEqual([['m1'], false, true]);
    const beyond = await api.messages.history({ sessionId, limit: 3, before: 1 });
    expect(beyond).toEqual({ items: [], hasOlder: false, hasNewer: true });
  });

  it('reads forward with after = the last seq, and polls for nothing new with the same cursor', async () => {
    const user = await signedInUser(testDb.orm);
    const { sessionId } = await sessionWith(testDb.orm, user, 5);
    const api = callerAs(testDb.orm, user);

    const first = await api.messages.history({ sessionId, limit: 2, after: 0 });
    expect([contents(first.items), first.hasOlder, first.hasNewer]).toEqual([['m1', 'm2'], false, true]);
    const second = await api.messages.history({ sessionId, limit: 2, after: 2 });
    expect([contents(second.items), second.hasOlder, second.hasNewer]).toEqual([['m3', 'm4'], true, true]);
    const last = await api.messages.history({ sessionId, limit: 2, after: 4 });
    expect([contents(last.items), last.hasOlder, last.hasNewer]).toEqual([['m5'], true, false]);
    expect(await api.messages.history({ sessionId, limit: 2, after: 5 })).toEqual({
      items: [],
      hasOlder: true,
      hasNewer: false,
    });
    await api.messages.append({ sessionId, role: 'assistant', content: 'm6' });
    expect(contents((await api.messages.history({ sessionId, after: 5 })).items)).toEqual(['m6']);
  });

  it('filters by chapter, with cursors over that chapter only', async () => {
    const user = await signedInUser(testDb.orm);
    const { sessionId } = await sessionWith(testDb.orm, user, 10, (seq) => (seq % 3 === 0 ? 'three' : undefined));
    const api = callerAs(testDb.orm, user);

    const latest = await api.messages.history({ sessionId, chapter: 'three', limit: 2 });
    expect([contents(latest.items), latest.hasOlder]).toEqual([['m6', 'm9'], true]);
    const older = await api.messages.history({ sessionId, chapter: 'three', limit: 2, before: 6 });
    expect([contents(older.items), older.hasOlder, older.hasNewer]).toEqual([['m3'], false, true]);
    expect(await api.messages.history({ sessionId, chapter: 'none such' })).toEqual({
      items: [],
      hasOlder: false,
      hasNewer: false,
    });
  });

  it('leaves deleted and cleared messages out', async () => {
    const user = await signedInUser(testDb.orm);
    const { sessionId, messages } = await sessionWith(testDb.orm, user, 6, (seq) => (seq <= 2 ? 'intro' : undefined));
    const api = callerAs(testDb.orm, user);
    await api.messages.delete({ id: messages[3]!.id });
    await api.messages.clear({ sessionId, chapter: 'intro' });

    expect(contents((await api.messages.history({ sessionId })).items)).toEqual(['m3', 'm5', 'm6']);
    const afterFirst = await api.messages.history({ sessionId, after: 0, limit: 1 });
    expect([contents(afterFirst.items), afterFirst.hasOlder]).toEqual([['m3'], false]);
  });

  it('is an empty page for a session without messages, and NOT_FOUND for a deleted session', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user);
    expect(await api.messages.history({ sessionId })).toEqual({ items: [], hasOlder: false, hasNewer: false });
    await softDeleteSession(testDb.orm, sessionId);
    await expect(api.messages.history({ sessionId })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses before and after together, and cursors that are not seqs', async () => {
    const user = await signedInUser(testDb.orm);
    const sessionId = await createSession(testDb.orm, user);
    const api = callerAs(testDb.orm, user);
    for (const input of [{ before: 5, after: 1 }, { before: 0 }, { after: -1 }, { before: 1.5 }, { limit: 0 }]) {
      await expect(api.messages.history({ sessionId, ...input }), JSON.stringify(input)).rejects.toMatchObject({
        code: 'BAD_REQUEST',
      });
    }
  });
});

/** What history must show: the visible messages of one session, by seq, as a model keeps them. */
interface ModelMessage {
  seq: number;
  id: string;
  chapter: string | undefined;
}

type Step =
  | { kind: 'append'; chapters: (string | undefined)[] }
  | { kind: 'delete'; pick: number }
  | { kind: 'clear'; chapter: string | undefined };

const chapterArb = fc.constantFrom(undefined, 'a', 'b');
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      chapters: fc.array(chapterArb, { minLength: 1, maxLength: 6 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clear' as const), chapter: chapterArb }) },
);

describe('messages.history, walked page by page (property)', () => {
  const testDb = useTestDatabase();

  it('yields every visible message exactly once, in order, backwards from the latest and forwards from the start', async () => {
    const user = await signedInUser(testDb.orm);
    const api = callerAs(testDb.orm, user);

    await fc.assert(
      fc.asyncProperty(
        fc.array(stepArb, { minLength: 1, maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 8 }),
        fc.constantFrom(undefined, 'a', 'b'),
        async (steps, pageSizes, chapter) => {
          const sessionId = await createSession(testDb.orm, user);
          let model: ModelMessage[] = [];
          for (const step of steps) {
            if (step.kind === 'append') {
              const { items } = await api.messages.appendMany({
                sessionId,
                messages: step.chapters.map((c) => ({ role: 'user' as const, content: 'x', chapter: c })),
              });
              model.push(...items.map(({ seq, id, chapter: c }) => ({ seq, id, chapter: c ?? undefined })));
            } else if (step.kind === 'delete') {
              const victim = model[step.pick % Math.max(model.length, 1)];
              if (victim === undefined) continue;
              await api.messages.delete({ id: victim.id });
              model = model.filter((message) => message !== victim);
            } else {
              const { cleared } = await api.messages.clear({ sessionId, chapter: step.chapter });
              const kept = model.filter((message) => step.chapter !== undefined && message.chapter !== step.chapter);
              expect(cleared).toBe(model.length - kept.length);
              model = kept;
            }
          }
          const expected = model
            .filter((message) => chapter === undefined || message.chapter === chapter)
            .map((m) => m.seq);
          const size = (page: number) => pageSizes[page % pageSizes.length]!;

          // Backwards from the latest page, each page prepended.
          const backwards: number[] = [];
          let before: number | undefined;
          for (let page = 0; ; page++) {
            const result = await api.messages.history({ sessionId, chapter, before, limit: size(page) });
            const seqs = result.items.map((message) => message.seq);
            expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
            expect(result.hasNewer).toBe(page > 0 && expected.length > 0);
            backwards.unshift(...seqs);
            if (!result.hasOlder) break;
            before = seqs[0];
          }
          expect(backwards).toEqual(expected);

          // Forwards from the start, each page appended.
          const forwards: number[] = [];
          let after = 0;
          for (let page = 0; ; page++) {
            const result = await api.messages.history({ sessionId, chapter, after, limit: size(page) });
            const seqs = result.items.map((message) => message.seq);
            forwards.push(...seqs);
            expect(result.hasOlder).toBe(page > 0 && expected.length > 0);
            if (!result.hasNewer) break;
            after = seqs.at(-1)!;
          }
          expect(forwards).toEqual(expected);
        },
      ),
      { numRuns: 40 },
    );
  });
});
