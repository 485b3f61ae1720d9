import { createServer, type Socket } from 'node:net';
import { connectionSettingsFromUrl, createOrm, type MikroORM } from '@threadstore/db';

/**
 * What a stand-in for a broken database does with each connection:
 * - `hang-up`: drops it at once, like a server that is going down (the client fails fast);
 * - `silent`: keeps it open and never answers, like a host that hangs (the client waits).
 */
export type Breakage = 'hang-up' | 'silent';

export interface BrokenDatabase {
  port: number;
  /** An ORM aimed at this stand-in; the caller closes it, after `close()` for `silent`. */
  createOrm(): Promise<MikroORM>;
  /** Drops open connections (failing pending connection attempts) and stops listening. */
  close(): Promise<void>;
}

/**
 * A TCP server we own that behaves like an unreachable database. Owning the port keeps the
 * behaviour deterministic: a merely "free" port could be taken by anything while tests run.
 */
export async function startBrokenDatabase(breakage: Breakage): Promise<BrokenDatabase> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    socket.on('error', () => {});
    if (breakage === 'hang-up') {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    // MikroORM connects lazily, so this succeeds; the first query meets the breakage. The connect
    // timeout is far beyond any readiness timeout under test, so a bounded answer can only come
    // from the readiness check itself.
    createOrm: () =>
      createOrm({
        connection: {
          ...connectionSettingsFromUrl(`postgresql://threadstore@127.0.0.1:${port}/unreachable`),
          connectTimeoutMs: 60_000,
        },
      }),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
