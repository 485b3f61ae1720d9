import type { Logger } from 'pino';

export interface ShutdownOptions {
  logger: Logger;
  /** Longest time the cleanup may take before the process exits anyway. */
  timeoutMs: number;
  signals?: NodeJS.Signals[];
  /** Called instead of process.exit (tests). */
  exit?: (code: number) => void;
  /**
   * Also shut down when the parent process sends this IPC message (a cluster primary stopping
   * its workers). Unlike a second signal, it never cuts a shutdown short: the same stop may reach
   * a worker both as a signal to its process group and as this message.
   */
  message?: string;
}

/**
 * Runs `cleanup` once on SIGTERM/SIGINT, then exits: 0 when cleanup finished, 1 when it threw
 * or outlived `timeoutMs`. A second signal while cleaning up exits at once, so an operator
 * pressing Ctrl-C twice is never stuck.
 */
export function onShutdown(cleanup: (signal: NodeJS.Signals) => Promise<void>, options: ShutdownOptions): () => void {
  const { logger, timeoutMs, signals = ['SIGTERM', 'SIGINT'], exit = (code) => process.exit(code), message } = options;
  let shuttingDown = false;
  const handler = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      logger.warn({ signal }, 'second signal during shutdown; exiting now');
      exit(1);
      return;
    }
    shuttingDown = true;
    logger.info({ signal, timeoutMs }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown timed out; exiting');
      exit(1);
    }, timeoutMs);
    timer.unref();
    cleanup(signal).then(
      () => {
        clearTimeout(timer);
        logger.info('shutdown complete');
        exit(0);
      },
      (error: unknown) => {
        clearTimeout(timer);
        logger.error({ err: error }, 'shutdown failed');
        exit(1);
      },
    );
  };
  const onMessage = (received: unknown) => {
    if (received === message && !shuttingDown) handler('SIGTERM');
  };
  for (const signal of signals) process.on(signal, handler);
  if (message !== undefined) process.on('message', onMessage);
  return () => {
    for (const signal of signals) process.off(signal, handler);
    process.off('message', onMessage);
  };
}
