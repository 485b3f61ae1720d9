import { createInterface } from 'node:readline';
import { Writable, type Readable } from 'node:stream';
import { createLogger, type Logger } from '../logger.ts';
import { within } from './within.ts';

export type JsonLine = Record<string, unknown> & { level?: string; msg?: string };

/**
 * Collects JSON log lines (a child's stdout, or a logger's destination) and lets a test wait for
 * the line that marks an event, such as a run having recorded its outcome.
 */
export class JsonLines {
  readonly lines: JsonLine[] = [];
  /** Lines that did not parse as a JSON object; a JSON-only log must leave this empty. */
  readonly notJson: string[] = [];
  #waiters: { predicate: (line: JsonLine) => boolean; resolve: (line: JsonLine) => void }[] = [];

  /** Reads `stream` line by line when given; otherwise lines arrive through `add`. */
  constructor(stream?: Readable) {
    if (stream) createInterface({ input: stream }).on('line', (text) => this.add(text));
  }

  waitFor(predicate: (line: JsonLine) => boolean, what: string, timeoutMs = 15_000): Promise<JsonLine> {
    const seen = this.lines.find(predicate);
    if (seen) return Promise.resolve(seen);
    const { promise, resolve } = Promise.withResolvers<JsonLine>();
    this.#waiters.push({ predicate, resolve });
    return within(promise, timeoutMs, what);
  }

  add(text: string): void {
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch {
      line = undefined;
    }
    if (typeof line !== 'object' || line === null || Array.isArray(line)) {
      this.notJson.push(text);
      return;
    }
    const entry = line as JsonLine;
    this.lines.push(entry);
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!waiter.predicate(entry)) return true;
      waiter.resolve(entry);
      return false;
    });
  }
}

/**
 * A real pino logger whose lines are kept, parsed, in `logs`. Writes land synchronously, so a
 * test can assert on `logs.lines` right after the code under test logged.
 */
export function captureLogs(service = 'test', level: 'debug' | 'info' = 'debug'): { logger: Logger; logs: JsonLines } {
  const logs = new JsonLines();
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n')) if (text) logs.add(text);
      done();
    },
  });
  return { logger: createLogger(service, level, destination), logs };
}
