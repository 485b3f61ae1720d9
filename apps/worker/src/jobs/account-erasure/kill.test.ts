import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import { startErasure } from '@threadstore/domain';
import { rowsMentioning, seedAccount } from '@threadstore/domain/testing';
import { runHandler } from '../../../test/job-context.ts';
import { uniqueBossSchema } from '../../../test/worker-fixture.ts';
import { accountErasureJob } from '@threadstore/jobs';

const workerDir = join(import.meta.dirname, '../../..');

describe('an account erasure whose process is killed with SIGKILL', () => {
  const testDb = useTestDatabase();
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('is left shut and consistent, and the worker job finishes it', { timeout: 120_000 }, async () => {
    const em = testDb.orm.em.fork();
    const account = await seedAccount(em, { messages: 40_000 });
    const bystander = await seedAccount(em, { messages: 50 });
    const needles = [account.userId, account.email, account.username, account.anonymousId];
    const bystanderBefore = await rowsMentioning(em, [bystander.userId, bystander.email, bystander.anonymousId]);
    const erasureId = await startErasure(testDb.orm.em.fork(), account.userId);
    const progress = async () =>
      (
        await em
          .getConnection()
          .execute<{ batches: number; status: string; messages: string | null }[]>(
            `select batches, status, counts ->> 'chat_messages' as messages from account_erasures where id = ?`,
            [erasureId],
          )
      )[0]!;

    // A real process erasing in small batches: the operators' `pnpm jobs run account-erasure`.
    child = spawn(
      process.execPath,
      ['src/cli/main.ts', 'run', 'account-erasure', '--payload', '{"staleAfterSeconds":0,"batchSize":100}'],
      {
        cwd: workerDir,
        env: {
          PATH: process.env.PATH ?? '',
          DATABASE_URL: testDb.db.url,
          PGBOSS_SCHEMA: uniqueBossSchema(),
          LOG_LEVEL: 'warn',
        },
        stdio: 'ignore',
      },
    );
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    // Killed once it has deleted some messages, long before it could have deleted them all.
    const deadline = Date.now() + 60_000;
    while (Number((await progress()).messages ?? 0) < 500) {
      if (Date.now() > deadline) throw new Error('the erasing process made no progress within 60 s');
      if (child.exitCode !== null) throw new Error(`the erasing process exited (${child.exitCode}) early`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGKILL');
    await exited;

    const killed = await progress();
    expect(killed.status).toBe('running');
    expect(Number(killed.messages)).toBeLessThan(40_001);
    const [left] = await em.getConnection().execute<{ messages: number; deleted: boolean }[]>(
      `select (select count(*)::int from chat_messages m join chat_sessions s on s.id = m.session_id where s.user_id = ?) as messages,
                (select deleted_at is not null from users where id = ?) as deleted`,
      [account.userId, account.userId],
    );
    // Every committed batch is counted in the receipt, and nothing else is gone.
    expect(left!.messages + Number(killed.messages)).toBe(40_001);
    expect(left!.deleted).toBe(true);

    const { result } = await runHandler(accountErasureJob, testDb.orm, { staleAfterSeconds: 0, batchSize: 5_000 });
    expect(result.details).toMatchObject({ erasures: [{ erasureId, status: 'completed' }] });
    expect(await rowsMentioning(em, needles)).toEqual([]);
    expect(await rowsMentioning(em, [bystander.userId, bystander.email, bystander.anonymousId])).toEqual(
      bystanderBefore,
    );
    const receipt = (await progress()) as { status: string; messages: string };
    expect(receipt).toMatchObject({ status: 'completed', messages: '40001' });
  });
});
