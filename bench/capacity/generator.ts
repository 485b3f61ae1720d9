/**
 * One load-generator process of the capacity benchmark (forked by main.ts; several can share the
 * users). It simulates users in an open loop: every request is sent when it falls due, whether or
 * not the user's previous request has been answered, and is timed from that due time, so a
 * stalled server shows up in the tail instead of slowing the users down (no coordinated omission).
 *
 * A user owns one seeded session (user i is session i's anonymous owner) and cycles through
 *   list sessions → last page of history → append a user message → append an assistant message
 *   → scroll back a page (the page before the oldest message of the last page it read),
 * with a think time drawn from an exponential distribution (mean 2 s) before every step.
 *
 * Protocol (IPC): main sends a `StepCommand`, the generator answers with a `StepResult`.
 */
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { makeCorpus, ownerId, randomContent, sessionId } from '../api/dataset.ts';

export const KINDS = ['list', 'history', 'appendUser', 'appendAssistant', 'scroll'] as const;
export type Kind = (typeof KINDS)[number];
export const WRITE_KINDS: ReadonlySet<Kind> = new Set(['appendUser', 'appendAssistant']);

export interface StepCommand {
  port: number;
  /** Users [from, to) of this generator; user i owns session i % sessions. */
  from: number;
  to: number;
  sessions: number;
  thinkMeanMs: number;
  /** Wall-clock (Date.now()) start of the step, shared by all generators. */
  startAt: number;
  warmupMs: number;
  measureMs: number;
  /** How long to wait for requests still in flight after the last one fell due. */
  drainMs: number;
  maxSockets: number;
}

export interface StepResult {
  /** Per measured request: its kind (index into KINDS), latency in ms, and whether it failed. */
  kinds: number[];
  latencies: number[];
  failed: number[];
  firstError: string | null;
  /** Requests still unanswered after the drain (counted as failed, latency = time waited). */
  abandoned: number;
  /** This process's CPU over the step, in ms, and its event-loop delay (timers firing late). */
  cpuMs: number;
  loopDelayP99Ms: number;
}

const corpus = makeCorpus();
const PAGE = 50;

function exponential(meanMs: number): number {
  return -Math.log(1 - Math.random()) * meanMs;
}

async function runStep(command: StepCommand): Promise<StepResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: command.maxSockets });
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const cpuBefore = process.cpuUsage();
  // performance.now() of the shared wall-clock start.
  const t0 = performance.now() + (command.startAt - Date.now());
  const measureFrom = t0 + command.warmupMs;
  const end = measureFrom + command.measureMs;

  const result: StepResult = {
    kinds: [],
    latencies: [],
    failed: [],
    firstError: null,
    abandoned: 0,
    cpuMs: 0,
    loopDelayP99Ms: 0,
  };
  const inFlight = new Set<{ kind: Kind; due: number }>();

  const send = (kind: Kind, user: number, due: number, spec: HttpSpec, onBody?: (body: string) => void) => {
    const entry = { kind, due };
    const measured = due >= measureFrom;
    if (measured) inFlight.add(entry);
    const finish = (ok: boolean, error: string | null) => {
      if (!measured || !inFlight.delete(entry)) return;
      result.kinds.push(KINDS.indexOf(kind));
      result.latencies.push(performance.now() - due);
      result.failed.push(ok ? 0 : 1);
      if (!ok) result.firstError ??= `${kind} (user ${user}): ${error}`;
    };
    const headers: Record<string, string> = { 'x-session-id': ownerId(user % command.sessions) };
    if (spec.body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(spec.body));
    }
    const req = request(
      { agent, host: '127.0.0.1', port: command.port, method: spec.method, path: spec.path, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const body = Buffer.concat(chunks).toString('utf8');
          const ok = status >= 200 && status < 300;
          finish(ok, ok ? null : `HTTP ${status} ${body.slice(0, 300)}`);
          if (ok) onBody?.(body);
        });
        res.on('error', (error) => finish(false, String(error)));
      },
    );
    req.on('error', (error) => finish(false, String(error)));
    req.end(spec.body);
  };

  const timers = new Set<NodeJS.Timeout>();
  const user = (index: number) => {
    const session = sessionId(index % command.sessions);
    // The page before the oldest message of the last page read; a guess until one has been read.
    let before = 2;
    let step = 0;
    let due = t0 + exponential(command.thinkMeanMs);
    const next = () => {
      if (due >= end) return;
      const kind = KINDS[step % KINDS.length]!;
      step += 1;
      const thisDue = due;
      switch (kind) {
        case 'list':
          send(kind, index, thisDue, get('sessions.list', { limit: 20 }));
          break;
        case 'history':
          send(kind, index, thisDue, get('messages.history', { sessionId: session, limit: PAGE }), (body) => {
            const items = (JSON.parse(body) as { result: { data: { items: { seq: number }[] } } }).result.data.items;
            if (items.length > 0) before = items[0]!.seq;
          });
          break;
        case 'appendUser':
        case 'appendAssistant':
          send(kind, index, thisDue, {
            method: 'POST',
            path: '/trpc/messages.append',
            body: JSON.stringify({
              sessionId: session,
              role: kind === 'appendUser' ? 'user' : 'assistant',
              content: randomContent(corpus),
              clientMessageId: randomUUID(),
            }),
          });
          break;
        case 'scroll':
          send(kind, index, thisDue, get('messages.history', { sessionId: session, limit: PAGE, before }));
          break;
      }
      due += exponential(command.thinkMeanMs);
      schedule();
    };
    const schedule = () => {
      if (due >= end) return;
      const timer = setTimeout(
        () => {
          timers.delete(timer);
          next();
        },
        Math.max(0, due - performance.now()),
      );
      timers.add(timer);
    };
    schedule();
  };
  for (let index = command.from; index < command.to; index += 1) user(index);

  // Until the last request has fallen due, then until the answers are in (or the drain ends).
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, end - performance.now())));
  const drainUntil = performance.now() + command.drainMs;
  while (inFlight.size > 0 && performance.now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 20));
  for (const timer of timers) clearTimeout(timer);
  const now = performance.now();
  for (const entry of inFlight) {
    result.kinds.push(KINDS.indexOf(entry.kind));
    result.latencies.push(now - entry.due);
    result.failed.push(1);
    result.abandoned += 1;
    result.firstError ??= `${entry.kind}: no answer within ${command.drainMs} ms after the step`;
  }
  inFlight.clear();
  agent.destroy();
  const cpu = process.cpuUsage(cpuBefore);
  result.cpuMs = (cpu.user + cpu.system) / 1000;
  loop.disable();
  result.loopDelayP99Ms = loop.percentile(99) / 1e6;
  return result;
}

interface HttpSpec {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}

function get(procedure: string, input: unknown): HttpSpec {
  return { method: 'GET', path: `/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify(input))}` };
}

process.on('message', (command: StepCommand) => {
  runStep(command).then(
    (result) => process.send!(result),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});
