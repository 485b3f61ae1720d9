import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import { query } from '../messages/sql.ts';
import { actorFor, createTestUser, seedAccount } from '../testing/index.ts';
import { eraseAccount } from './erase.ts';
import { exportAccount } from './export.ts';
import { importAccount } from './import.ts';

interface Line {
  kind: string;
  table?: string;
  row?: Record<string, unknown>;
  ownerId?: string;
  tables?: unknown;
}

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  let text = '';
  for await (const chunk of lines) text += chunk;
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

async function* replay(lines: string[]): AsyncGenerator<string> {
  yield* lines;
}

/**
 * The test's own content hash per table, from the parsed rows (not the manifest's bytes): each
 * row's values with the owner's id written as a placeholder, keys sorted, rows sorted.
 */
function contentHashes(lines: string[], skipActions: string[] = []): Record<string, { rows: number; sha256: string }> {
  const parsed = lines.map((line) => JSON.parse(line) as Line);
  const owner = parsed[0]!.ownerId!;
  const byTable = new Map<string, string[]>();
  for (const line of parsed) {
    if (line.kind !== 'row') continue;
    if (line.table === 'audit_log' && skipActions.includes(String(line.row!.action))) continue;
    const canonical = JSON.stringify(
      Object.fromEntries(Object.entries(line.row!).sort(([a], [b]) => a.localeCompare(b))),
    ).replaceAll(owner, '<owner>');
    byTable.set(line.table!, [...(byTable.get(line.table!) ?? []), canonical]);
  }
  return Object.fromEntries(
    [...byTable].map(([table, rows]) => [
      table,
      { rows: rows.length, sha256: createHash('sha256').update(rows.sort().join('\n')).digest('hex') },
    ]),
  );
}

describe('account export and import', () => {
  const testDb = useTestDatabase();

  it('round-trips: export, erase, import into an empty account, export again: same content', async () => {
    const em = testDb.orm.em.fork();
    const original = await seedAccount(em, { messages: 300 });
    const exported = await collect(exportAccount(testDb.orm.em.fork(), original.userId));

    const header = JSON.parse(exported[0]!) as Line;
    expect(header).toMatchObject({ kind: 'header', format: 'threadstore.account-export', ownerId: original.userId });
    const manifest = JSON.parse(exported.at(-1)!) as { kind: string; tables: Record<string, { rows: number }> };
    expect(manifest.kind).toBe('manifest');
    expect(manifest.tables).toMatchObject({
      users: { rows: 1 },
      projects: { rows: 1 },
      chat_sessions: { rows: 3 },
      chat_messages: { rows: 301 },
      chat_message_versions: { rows: 1 },
      memories: { rows: 2 },
      knowledge_entries: { rows: 1 },
      api_keys: { rows: 1 },
      academy_xp_transactions: { rows: 1 },
      session_shares: { rows: 1 },
      message_ratings: { rows: 1 },
      message_clears: { rows: 1 },
    });
    // Secrets and database-assigned values never leave: hashes, search vectors, serial ids.
    const text = exported.join('\n');
    expect(text).not.toMatch(/key_hash|password_hash|request_hash|search_vector|"tx_id"|token_hash/);
    expect(text).not.toContain('retention_policies');

    await eraseAccount(testDb.orm.em.fork(), original.userId);
    const { userId, principal } = await createTestUser(testDb.orm.em.fork());
    const result = await importAccount(testDb.orm.em.fork(), actorFor(principal), userId, replay(exported));
    expect(result.imported).toMatchObject({
      chat_messages: 301,
      chat_message_versions: 1,
      memories: 2,
      audit_log: 4,
      api_keys: 1,
    });
    expect(result.skipped).toEqual({ users: 1 });

    const again = await collect(exportAccount(testDb.orm.em.fork(), userId));
    const before = contentHashes(exported);
    const after = contentHashes(again, ['account.import']);
    // The profile is the importing account's own.
    delete before.users;
    delete after.users;
    expect(after).toEqual(before);
    expect(Object.keys(after)).toEqual(
      expect.arrayContaining(['chat_sessions', 'chat_messages', 'memories', 'projects', 'audit_log']),
    );
    // Same ids: a session id a frontend stored before the move still opens the same conversation.
    const [moved] = await query<{ user_id: string }>(
      em,
      `select user_id from chat_sessions where client_key = 'main' and user_id = $1`,
      [userId],
    );
    expect(moved).toEqual({ user_id: userId });
    // An API key comes back as metadata: its secret never left, so nothing can authenticate with it.
    const [key] = await query<{ key_hash: string }>(em, `select key_hash from api_keys where user_id = $1`, [userId]);
    expect(key!.key_hash).toMatch(/^unusable:/);
    // So does a share link: the link's token opened it on the old account only.
    const [share] = await query<{ token_hash: string }>(
      em,
      `select sh.token_hash from session_shares sh join chat_sessions s on s.id = sh.session_id where s.user_id = $1`,
      [userId],
    );
    expect(share!.token_hash).toMatch(/^unusable:/);
    const [rating] = await query<{ value: string; tags: string[] }>(
      em,
      `select r.value, s.tags from message_ratings r join chat_sessions s on s.id = r.session_id where s.user_id = $1`,
      [userId],
    );
    expect(rating).toEqual({ value: 'up', tags: ['work', 'seed'] });
  });

  it('refuses a truncated or tampered export and writes nothing', async () => {
    const em = testDb.orm.em.fork();
    const source = await seedAccount(em, { messages: 5 });
    const lines = await collect(exportAccount(testDb.orm.em.fork(), source.userId));
    await eraseAccount(testDb.orm.em.fork(), source.userId);
    const { userId, principal } = await createTestUser(testDb.orm.em.fork());
    const attempt = (input: string[]) =>
      importAccount(testDb.orm.em.fork(), actorFor(principal), userId, replay(input));

    await expect(attempt(lines.slice(0, -1))).rejects.toMatchObject({ code: 'BAD_REQUEST', message: /truncated/ });
    const tampered = lines.map((line) => line.replace('message 3 of', 'message 3 0f'));
    await expect(attempt(tampered)).rejects.toMatchObject({ code: 'BAD_REQUEST', message: /checksum/ });
    await expect(attempt(['{"kind":"header"}'])).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(attempt([lines[0]!, 'not json'])).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const [{ n }] = (await query<{ n: number }>(em, `select count(*)::int as n from chat_sessions where user_id = $1`, [
      userId,
    ])) as [{ n: number }];
    expect(n).toBe(0);

    // Into a non-empty account, or beside the original (same ids): CONFLICT.
    await attempt(lines);
    await expect(attempt(lines)).rejects.toMatchObject({ code: 'CONFLICT' });
    const other = await createTestUser(testDb.orm.em.fork());
    await expect(
      importAccount(testDb.orm.em.fork(), actorFor(other.principal), other.userId, replay(lines)),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});
