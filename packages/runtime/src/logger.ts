import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Structured JSON logs, one object per line on stdout, with the process's name on every line
 * so API and worker output can be told apart when interleaved.
 */
export function createLogger(
  service: string,
  level: LoggerOptions['level'] = 'info',
  destination?: NodeJS.WritableStream,
): Logger {
  const options: LoggerOptions = {
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: ['*.password', '*.authorization', '*.apiKey', 'req.headers.authorization', 'req.headers["x-api-key"]'],
      censor: '***',
    },
  };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}
