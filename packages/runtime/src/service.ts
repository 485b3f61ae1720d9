import { SchemaMismatchError, type MikroORM } from '@threadstore/db';
import type * as z from 'zod';
import { ConfigError, loadConfig, type logEnvSchema } from './config.ts';
import { openServiceDatabase, type ServiceDatabaseEnv } from './database.ts';
import { createLogger, type Logger } from './logger.ts';
import { onShutdown } from './shutdown.ts';

/** sysexits.h EX_CONFIG: tells a supervisor (and a person) that restarting will not help. */
export const EXIT_CONFIG = 78;

/**
 * Parses the environment or ends the process with exit code 78 and a message naming each bad
 * variable on stderr. No stack trace: it would only bury the one line that says what to fix.
 */
export function loadConfigOrExit<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  try {
    return loadConfig(schema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(EXIT_CONFIG);
  }
}

type ServiceConfig = ServiceDatabaseEnv & z.infer<typeof logEnvSchema> & { SHUTDOWN_TIMEOUT_MS: number };

export interface StartedService {
  /** Logged once the service is up: `{ msg: startedMessage, ...startedFields }`. */
  startedMessage: string;
  startedFields?: Record<string, unknown>;
  /** Graceful stop: finish in-flight work. The database is closed after it. */
  stop(): Promise<void>;
}

export interface ServiceDefinition<C extends ServiceConfig> {
  name: string;
  configSchema: z.ZodType<C>;
  start(context: { config: C; logger: Logger; orm: MikroORM }): Promise<StartedService>;
  /** An IPC message from the parent that stops the service like SIGTERM (see `onShutdown`). */
  shutdownMessage?: string;
}

/**
 * The life of a long-running Threadstore process (API, worker), so both behave alike:
 * configuration validated once (exit 78 when wrong), JSON logs, a database whose schema matches
 * this build (exit 1 naming the missing migrations otherwise), and a graceful stop on
 * SIGTERM/SIGINT within SHUTDOWN_TIMEOUT_MS. Crashes are logged as JSON before exiting 1.
 */
export async function runService<C extends ServiceConfig>(definition: ServiceDefinition<C>): Promise<void> {
  const config = loadConfigOrExit(definition.configSchema);
  const logger = createLogger(definition.name, config.LOG_LEVEL);
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception');
    process.exit(1);
  });
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: reason }, 'unhandled rejection');
    process.exit(1);
  });

  try {
    const orm = await openServiceDatabase(config, definition.name, logger);
    const service = await definition.start({ config, logger, orm });
    // Handlers first, then the "started" line: a supervisor may send SIGTERM the moment it reads
    // that line, and a signal that beats the handler kills the process without any cleanup.
    onShutdown(
      async () => {
        await service.stop();
        await orm.close();
      },
      {
        logger,
        timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
        ...(definition.shutdownMessage === undefined ? {} : { message: definition.shutdownMessage }),
      },
    );
    logger.info(service.startedFields ?? {}, service.startedMessage);
  } catch (error) {
    if (error instanceof SchemaMismatchError) logger.fatal({ pending: error.pending }, error.message);
    else logger.fatal({ err: error }, `${definition.name} failed to start`);
    process.exit(1);
  }
}
