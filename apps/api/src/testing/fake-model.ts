import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the fake model does with one request. */
export interface Behaviour {
  /** The answer's pieces, one chunk each (default: the last user message echoed word by word). */
  tokens?: string[];
  /** Pause before each chunk. */
  delayMs?: number;
  /** Answer this HTTP status instead of a stream. */
  status?: number;
  /** Stop sending after this many chunks and keep the connection open (a stalled model). */
  stallAfter?: number;
  /** Destroy the connection after this many chunks. */
  dropAfter?: number;
  /** Send a chunk that is not JSON after this many chunks. */
  malformedAfter?: number;
  /** Runs before anything is answered (e.g. checks what the database holds at that moment). */
  onRequest?: (body: ChatCompletionRequest) => Promise<void> | void;
}

export interface ChatCompletionRequest {
  model: string;
  stream: boolean;
  messages: { role: string; content: string }[];
}

/**
 * A small OpenAI-compatible chat-completions server on a real socket: it streams, stalls, fails
 * with any status, sends a malformed chunk or drops the connection, as each test scripts it.
 * Usage (prompt and completion tokens) comes in the last chunk, as OpenAI sends it.
 */
export interface FakeModel {
  /** The base URL to configure (`…/v1`). */
  url: string;
  requests: ChatCompletionRequest[];
  /** Behaviours for the next requests, in order; once used up, `fallback` answers. */
  script(...behaviours: Behaviour[]): void;
  fallback: Behaviour;
  close(): Promise<void>;
}

export async function startFakeModel(fallback: Behaviour = {}): Promise<FakeModel> {
  const queue: Behaviour[] = [];
  const sockets = new Set<Socket>();
  const model: FakeModel = {
    url: '',
    requests: [],
    script: (...behaviours) => queue.push(...behaviours),
    fallback,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    void handle(req, res, queue.shift() ?? model.fallback, model).catch(() => res.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  model.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return model;
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  behaviour: Behaviour,
  model: FakeModel,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatCompletionRequest;
  model.requests.push(body);
  await behaviour.onRequest?.(body);
  if (behaviour.status !== undefined) {
    res.writeHead(behaviour.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: `scripted ${behaviour.status}` } }));
    return;
  }
  const question = [...body.messages].reverse().find((message) => message.role === 'user')?.content ?? '';
  const tokens = behaviour.tokens ?? `echo: ${question}`.match(/\s*\S+/g) ?? [];
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const send = (data: unknown) => res.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
  for (const [index, token] of tokens.entries()) {
    if (index === behaviour.stallAfter) return; // keeps the socket open, says nothing more
    if (index === behaviour.dropAfter) {
      // What was written reaches the client first; then the connection breaks mid-stream.
      await new Promise((resolve) => setTimeout(resolve, 100));
      res.socket?.destroy();
      return;
    }
    if (index === behaviour.malformedAfter) {
      send('{"choices": [ this is not json');
      res.end();
      return;
    }
    if (behaviour.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs));
    if (res.destroyed) return;
    send({ id: 'fake', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: token } }] });
  }
  send({
    id: 'fake',
    object: 'chat.completion.chunk',
    choices: [],
    usage: { prompt_tokens: 11 * body.messages.length, completion_tokens: tokens.length },
  });
  send('[DONE]');
  res.end();
}
