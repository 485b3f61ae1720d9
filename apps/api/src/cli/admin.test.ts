import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AuditLogSchema, UserSchema } from '@threadstore/db';
import { useTestDatabase } from '@threadstore/db/testing';
import { createTestUser } from '@threadstore/domain/testing';

const apiDir = join(import.meta.dirname, '..', '..');

/** `node src/cli/admin.ts …` against the test database, as an operator runs `pnpm admin …`. */
async function adminCli(databaseUrl: string, ...args: string[]) {
  const env = { PATH: process.env.PATH, DATABASE_URL: databaseUrl, THREADSTORE_ENV_FILE: '/dev/null' };
  return promisify(execFile)(process.execPath, ['src/cli/admin.ts', ...args], { cwd: apiDir, env }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

// Each call starts a Node process; on a busy CI machine that alone can take seconds.
describe('pnpm admin', { timeout: 180_000 }, () => {
  const testDb = useTestDatabase();

  it('grants and revokes the admin role by e-mail or id, audited, and says when nothing changes', async () => {
    const em = testDb.orm.em.fork();
    const { userId } = await createTestUser(em);
    await em.nativeUpdate(UserSchema, { id: userId }, { email: 'First.Admin@example.com' });
    const role = async () => (await testDb.orm.em.fork().findOneOrFail(UserSchema, userId)).role;

    const granted = await adminCli(testDb.db.url, 'grant', 'first.admin@example.com');
    expect(granted).toMatchObject({ code: 0, stdout: `First.Admin@example.com (${userId}) is now an admin\n` });
    expect(await role()).toBe('admin');
    const again = await adminCli(testDb.db.url, 'grant', userId);
    expect(again.stdout).toContain('is already an admin; nothing changed');

    const revoked = await adminCli(testDb.db.url, 'revoke', userId);
    expect(revoked.code).toBe(0);
    expect(await role()).toBe('user');
    const audit = await testDb.orm.em.fork().find(AuditLogSchema, { subjectId: userId }, { orderBy: { id: 'asc' } });
    expect(audit.map((row) => [row.actorType, row.action, row.details.to])).toEqual([
      ['system', 'users.grantAdmin', 'admin'],
      ['system', 'users.revokeAdmin', 'user'],
    ]);
  });

  it('refuses an unknown user with exit 1, and bad usage or unknown flags with exit 64', async () => {
    const missing = await adminCli(testDb.db.url, 'grant', 'nobody@example.com');
    expect(missing).toMatchObject({ code: 1, stderr: 'no user is "nobody@example.com"\n' });
    for (const args of [['promote', 'x@example.com'], ['grant'], ['grant', 'x@example.com', '--force']]) {
      const result = await adminCli(testDb.db.url, ...args);
      expect(result.code).toBe(64);
      expect(result.stderr).toContain('usage: admin grant <user>');
    }
    expect(await testDb.orm.em.fork().count(UserSchema, { role: 'admin' })).toBe(0);
  });
});
