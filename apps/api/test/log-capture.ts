import { Writable } from 'node:stream';
import { createLogger, type Logger } from '@threadstore/runtime';

export type LogLine = Record<string, unknown> & { level: string; msg: string };

/** A real pino logger whose JSON lines are kept in `lines`, parsed, for assertions. */
export function captureLogs(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line) lines.push(JSON.parse(line) as LogLine);
      }
      done();
    },
  });
  return { logger: createLogger('api', 'debug', destination), lines };
}
