import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectionSettingsFromUrl,
  createOrm,
  findFreePort,
  migrate,
  startEmbeddedPostgres,
  type MikroORM,
  type RunningPostgres,
} from '@threadstore/db';
import { startApi, type RunningApi } from '../test/http-api.ts';

/**
 * A PostgreSQL server this test owns, so it can stop and start it under the API: the shared
 * test server cannot be taken away from the other test files.
 */
describe('when PostgreSQL goes away and comes back', () => {
  let dataDir: string;
  let port: number;
  let postgres: RunningPostgres | undefined;
  let orm: MikroORM;
  let api: RunningApi;

  const startPostgres = async () => {
    postgres = await startEmbeddedPostgres({ dataDir, port, database: 'outage' });
    return postgres;
  };

  beforeAll(async () => {
    const parent = await mkdtemp(join(tmpdir(), 'threadstore-outage-'));
    // Run as root, the server runs as `postgres`, which must be able to reach its data directory.
    await chmod(parent, 0o755);
    dataDir = join(parent, 'pg');
    port = await findFreePort();
    const { url } = await startPostgres();
    orm = await createOrm({ connection: connectionSettingsFromUrl(url) });
    await migrate(orm);
    api = await startApi(orm, { RATE_LIMIT_PER_MINUTE: 0 });
  }, 120_000);
  afterAll(async () => {
    await api?.close();
    await orm?.close();
    await postgres?.stop();
    if (dataDir) await rm(join(dataDir, '..'), { recursive: true, force: true });
  });

  it('answers fast with typed 503s meanwhile, recovers within 5 s without a restart, and loses no acknowledged write', async () => {
    const visitor = { 'x-session-id': crypto.randomUUID() };
    const client = api.client(visitor);
    const session = await client.sessions.create.mutate({ title: 'across a restart' });

    // Writers keep appending through the whole outage; what the API acknowledged is recorded.
    const acknowledged = new Map<string, number>();
    let writing = true;
    let attempts = 0;
    const writer = async (w: number) => {
      for (let i = 0; writing; i++) {
        const clientMessageId = `w${w}-${i}`;
        attempts++;
        try {
          const message = await client.messages.append.mutate({
            sessionId: session.id,
            role: 'user',
            content: clientMessageId,
            clientMessageId,
          });
          acknowledged.set(clientMessageId, message.seq);
        } catch {
          // Refused or cut off: not acknowledged, so the writer may move on.
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    await expect.poll(() => acknowledged.size, { timeout: 30_000 }).toBeGreaterThan(20);

    await postgres!.stop();
    const ackedBeforeOutage = acknowledged.size;

    // Meanwhile: probes and calls answer at once, with a status that says "try again".
    let started = performance.now();
    const readyz = await fetch(`${api.url}/readyz`);
    expect(readyz.status).toBe(503);
    expect(performance.now() - started).toBeLessThan(5_000);
    started = performance.now();
    const get = await fetch(
      `${api.url}/trpc/sessions.get?input=${encodeURIComponent(JSON.stringify({ id: session.id }))}`,
      {
        headers: visitor,
      },
    );
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(get.status).toBe(503);
    expect(get.headers.get('retry-after')).toBe('1');
    expect(await get.json()).toMatchObject({ error: { data: { code: 'SERVICE_UNAVAILABLE', httpStatus: 503 } } });
    const rest = await fetch(`${api.url}/api/sessions/get?id=${session.id}`, { headers: visitor });
    expect(rest.status).toBe(503);

    await startPostgres();
    const back = performance.now();
    await expect
      .poll(async () => (await fetch(`${api.url}/readyz`)).status, { timeout: 5_000, interval: 100 })
      .toBe(200);
    await expect
      .poll(
        async () =>
          (
            await fetch(
              `${api.url}/trpc/sessions.get?input=${encodeURIComponent(JSON.stringify({ id: session.id }))}`,
              { headers: visitor },
            )
          ).status,
        { timeout: 5_000, interval: 100 },
      )
      .toBe(200);
    const recoveredMs = performance.now() - back;
    expect(recoveredMs).toBeLessThan(5_000);
    const ackedAtRecovery = acknowledged.size;
    await expect.poll(() => acknowledged.size, { timeout: 30_000 }).toBeGreaterThan(ackedAtRecovery + 20);

    writing = false;
    await Promise.all(writers);

    // Every acknowledged message is there, with the seq the API answered, and nothing else is.
    const rows = await orm.em
      .fork()
      .getConnection()
      .execute<{ client_message_id: string; seq: number }[]>(
        'select client_message_id, seq from chat_messages where session_id = ? order by seq',
        [session.id],
      );
    const stored = new Map(rows.map((row) => [row.client_message_id, Number(row.seq)]));
    const lost = [...acknowledged].filter(([id, seq]) => stored.get(id) !== seq);
    expect(lost).toEqual([]);
    expect(rows.map((row) => Number(row.seq))).toEqual(rows.map((_, i) => i + 1));
    console.info(
      `database outage: ${attempts} attempts, ${acknowledged.size} acknowledged (${ackedBeforeOutage} before the stop), ` +
        `${rows.length} stored, recovered ${Math.round(recoveredMs)} ms after the restart`,
    );
  }, 180_000);
});
