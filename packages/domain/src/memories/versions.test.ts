import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { DEFAULT_CONTENT_LIMITS } from '@threadstore/contract';
import { useTestDatabase } from '@threadstore/db/testing';
import { DomainError } from '../errors.ts';
import { actorFor, createTestUser } from '../testing/index.ts';
import { createMemory, deleteMemory, getMemory, memoryHistory, updateMemory } from './memories.ts';

/** Random scripts of operations on a handful of contents, so creates and updates collide. */
const ops = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('create' as const), content: fc.nat(5) }),
    fc.record({ kind: fc.constant('update' as const), target: fc.nat(10), content: fc.nat(5) }),
    fc.record({ kind: fc.constant('delete' as const), target: fc.nat(10) }),
  ),
  { minLength: 1, maxLength: 14 },
);

describe('memory versions against a model', () => {
  const testDb = useTestDatabase();

  it('history and asOf agree with the model after random creates, updates and deletes', async () => {
    await fc.assert(
      fc.asyncProperty(ops, async (script) => {
        const em = testDb.orm.em.fork();
        const { principal } = await createTestUser(em);
        const actor = actorFor(principal);
        /** Per memory, every version's content in order, and whether it is deleted. */
        const model = new Map<string, { versions: string[]; deleted: boolean }>();
        /** After each effective operation: its instant, and the current content of every memory then. */
        const snapshots: { at: string; state: Map<string, string | null> }[] = [];
        const snapshot = (at: string) =>
          snapshots.push({
            at,
            state: new Map([...model].map(([id, m]) => [id, m.deleted ? null : m.versions.at(-1)!])),
          });
        const ids = () => [...model.keys()];

        for (const op of script) {
          const fork = testDb.orm.em.fork();
          if (op.kind === 'create') {
            const content = `fact ${op.content}`;
            const { memory, created } = await createMemory(
              fork,
              actor,
              { content, kind: 'long_term', subject: 'user' },
              DEFAULT_CONTENT_LIMITS,
            );
            const current = [...model].find(([, m]) => !m.deleted && m.versions.at(-1) === content);
            // Idempotent: the same content returns the memory that holds it, and changes nothing.
            expect(created).toBe(current === undefined);
            if (current !== undefined) {
              expect(memory.id).toBe(current[0]);
              continue;
            }
            model.set(memory.id, { versions: [content], deleted: false });
            snapshot(memory.validFrom);
          } else if (ids().length > 0) {
            const id = ids()[op.target % ids().length]!;
            const entry = model.get(id)!;
            if (op.kind === 'delete') {
              if (entry.deleted) {
                await expect(deleteMemory(fork, actor, id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
                continue;
              }
              const { deletedAt } = await deleteMemory(fork, actor, id);
              entry.deleted = true;
              snapshot(deletedAt);
            } else {
              const content = `fact ${op.content}`;
              const clash = [...model].some(
                ([other, m]) => other !== id && !m.deleted && m.versions.at(-1) === content,
              );
              try {
                const updated = await updateMemory(fork, actor, { id, content }, DEFAULT_CONTENT_LIMITS);
                expect(entry.deleted || clash).toBe(false);
                entry.versions.push(content);
                expect(updated.version).toBe(entry.versions.length);
                snapshot(updated.validFrom);
              } catch (error) {
                expect(error).toBeInstanceOf(DomainError);
                expect((error as DomainError).code).toBe(entry.deleted ? 'NOT_FOUND' : 'CONFLICT');
                expect(entry.deleted || clash).toBe(true);
              }
            }
          }
        }

        const reader = testDb.orm.em.fork();
        for (const [id, entry] of model) {
          const history = (await memoryHistory(reader, principal, id)).items;
          expect(history.map((version) => version.content)).toEqual(entry.versions);
          // Each version ends exactly where the next begins; only the last may be open.
          for (let i = 1; i < history.length; i += 1) {
            expect(history[i - 1]!.validTo).toBe(history[i]!.validFrom);
            expect(history[i - 1]!.supersededBy).toBe(history[i]!.versionId);
          }
          expect(history.at(-1)!.validTo === null).toBe(!entry.deleted);
        }
        for (const { at, state } of snapshots) {
          for (const [id, content] of state) {
            const read = getMemory(reader, principal, { id, asOf: at });
            if (content === null) await expect(read).rejects.toMatchObject({ code: 'NOT_FOUND' });
            else expect((await read).content, `${id} as of ${at}`).toBe(content);
          }
        }
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});
