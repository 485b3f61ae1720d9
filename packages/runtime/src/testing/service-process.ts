import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { JsonLines, type JsonLine } from './json-lines.ts';
import { within } from './within.ts';

export interface ServiceProcess {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** Every stdout line, parsed; non-JSON lines land in `stdout.notJson`. */
  stdout: JsonLines;
  stderr(): string;
  /** The first stdout line matching `predicate`; rejects if the process exits first or time runs out. */
  waitFor(predicate: (line: JsonLine) => boolean, what: string, timeoutMs?: number): Promise<JsonLine>;
  /** Once the process has exited and its output is fully read. */
  exited(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL, if it is still running. */
  kill(): void;
}

/**
 * Runs a Threadstore process (`node <entry>`) as a deployment would: with exactly `env` plus PATH,
 * nothing inherited from the test runner, and its output captured for assertions.
 */
export function startServiceProcess(entry: string, env: Record<string, string>, cwd?: string): ServiceProcess {
  return startProcess(process.execPath, [entry], env, cwd);
}

/** Any command (`bash scripts/start.sh`), captured the same way. */
export function startProcess(
  command: string,
  args: string[],
  env: Record<string, string>,
  cwd?: string,
): ServiceProcess {
  const child = spawn(command, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout = new JsonLines(child.stdout);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // 'close', not 'exit': it comes once both pipes are drained, so every line has been read.
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  const output = () => `stdout:\n${stdout.lines.map((l) => JSON.stringify(l)).join('\n')}\nstderr:\n${stderr}`;

  return {
    child,
    stdout,
    stderr: () => stderr,
    waitFor: (predicate, what, timeoutMs = 30_000) =>
      Promise.race([
        stdout.waitFor(predicate, what, timeoutMs).catch((error: Error) => {
          throw new Error(`${error.message}\n${output()}`);
        }),
        closed.then(({ code, signal }) => {
          throw new Error(`exited (${code ?? signal}) before ${what}\n${output()}`);
        }),
      ]),
    exited: (timeoutMs = 30_000) => within(closed, timeoutMs, `the process to exit\n${output()}`),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
