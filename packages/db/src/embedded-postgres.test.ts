import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedPostgresError, isProcessAlive, startEmbeddedPostgres } from './embedded-postgres.ts';
import { ChatMessageSchema, ChatSessionSchema } from './entities/index.ts';
import { connectionSettingsFromUrl } from './connection.ts';
import { createOrm, migrate } from './orm.ts';

const HOLDER = join(import.meta.dirname, '..', 'test', 'fixtures', 'hold-embedded-postgres.ts');

/** Starts the holder process and resolves once its PostgreSQL is up. */
async function startHolder(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [HOLDER, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('holder did not start within 60 s')), 60_000);
    child.once('exit', (code) => reject(new Error(`holder exited early (${code})`)));
    lines.on('line', (line) => {
      if (!line.startsWith('{')) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { url: string }).url);
    });
  });
  return { child, url };
}

async function postmasterPid(dataDir: string): Promise<number> {
  return Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
}

describe('embedded PostgreSQL', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'threadstore-embedded-'));
    await chmod(root, 0o755);
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('keeps conversations across a stop and a start on the same data directory', async () => {
    const dataDir = join(root, 'restart');
    const first = await startEmbeddedPostgres({ dataDir, port: 0 });
    let sessionId: string;
    try {
      const orm = await createOrm({ connection: connectionSettingsFromUrl(first.url) });
      await migrate(orm);
      const em = orm.em.fork();
      const session = em.create(ChatSessionSchema, {
        anonymousId: crypto.randomUUID(),
        title: 'before restart',
        lastSeq: 1,
        messageCount: 1,
      });
      em.create(ChatMessageSchema, { session, seq: 1, role: 'user', content: 'remember me ✨' });
      await em.flush();
      sessionId = session.id;
      await orm.close();
    } finally {
      await first.stop();
    }

    const second = await startEmbeddedPostgres({ dataDir, port: 0 });
    try {
      const orm = await createOrm({ connection: connectionSettingsFromUrl(second.url) });
      const em = orm.em.fork();
      const session = await em.findOneOrFail(ChatSessionSchema, sessionId);
      const messages = await em.find(ChatMessageSchema, { session }, { orderBy: { seq: 'asc' } });
      expect(session.title).toBe('before restart');
      expect(messages.map((m) => m.content)).toEqual(['remember me ✨']);
      // The restart did not re-run initdb or lose the applied migrations.
      expect(await migrate(orm)).toEqual([]);
      await orm.close();
    } finally {
      await second.stop();
    }
  });

  it('finds and stops the server a killed previous run left behind, and starts on its data', async () => {
    const dataDir = join(root, 'killed');
    const holder = await startHolder(dataDir);
    const orphan = await postmasterPid(dataDir);
    const orm = await createOrm({ connection: connectionSettingsFromUrl(holder.url) });
    await orm.em
      .getConnection()
      .execute(`create table written_before_kill (note text); insert into written_before_kill values ('kept')`);
    await orm.close();

    holder.child.kill('SIGKILL');
    await new Promise((resolve) => holder.child.once('exit', resolve));
    expect(isProcessAlive(orphan)).toBe(true); // the postgres child outlived its parent

    const logs: string[] = [];
    const next = await startEmbeddedPostgres({ dataDir, port: 0, onLog: (m) => logs.push(m) });
    try {
      expect(isProcessAlive(orphan)).toBe(false);
      expect(logs.some((m) => m.includes(`stopping orphaned PostgreSQL (pid ${orphan})`))).toBe(true);
      const again = await createOrm({ connection: connectionSettingsFromUrl(next.url) });
      const rows = await again.em.getConnection().execute<{ note: string }[]>('select note from written_before_kill');
      expect(rows).toEqual([{ note: 'kept' }]);
      await again.close();
    } finally {
      await next.stop();
    }
  });

  it('refuses a data directory that a live process is using, naming that process', async () => {
    const dataDir = join(root, 'busy');
    const holder = await startHolder(dataDir);
    try {
      const attempt = startEmbeddedPostgres({ dataDir, port: 0 });
      await expect(attempt).rejects.toBeInstanceOf(EmbeddedPostgresError);
      await expect(attempt).rejects.toThrow(`in use by process ${holder.child.pid}`);
    } finally {
      holder.child.kill('SIGKILL');
      await new Promise((resolve) => holder.child.once('exit', resolve));
      // Clean up the orphan the kill leaves behind, the same way a restart would.
      await (await startEmbeddedPostgres({ dataDir, port: 0 })).stop();
    }
  });
});
