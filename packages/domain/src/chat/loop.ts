import type { ContentLimits, TChatSendInput, TChatTurn, TMessage } from '@threadstore/contract';
import type { EntityManager, MikroORM } from '@threadstore/db';
import { recordAudit } from '../audit.ts';
import { sanitizeText } from '../content/sanitize.ts';
import { DomainError, notFound } from '../errors.ts';
import { appendMessage } from '../messages/append.ts';
import { toMessage } from '../messages/rows.ts';
import { auditActorOf, ownerOf, type Actor, type Principal } from '../principal.ts';
import { assembleContext } from './context.ts';
import { storedMemories, type MemoriesSource } from './memories.ts';
import { builtinResponder, estimateTokens, openAiResponder, ResponderError, type Responder } from './responders.ts';
import { resolveChatSettings, type ChatDefaults, type ChatSettings } from './settings.ts';
import {
  branchPoint,
  cancelQueuedTurn,
  finishTurn,
  findOwnedTurn,
  findTurnByClientMessageId,
  insertTurn,
  interruptSession,
  lockOwnedSession,
  lockSession,
  markGenerating,
  moveHolder,
  oldestQueuedTurn,
  readTurn,
  reapDeadTurns,
  requestCancel,
  sessionInfo,
  sessionsWithStrandedQueues,
  sessionTurnState,
  startQueuedTurn,
  writePartial,
  type Holder,
  type SessionOfTurn,
  type TurnView,
} from './sql.ts';

/** Why a running answer is stopped from outside. */
export type StopReason = 'cancelled' | 'interrupted' | 'disconnected' | 'shutdown';

/**
 * An answer being generated in this process: its text so far, and a way to wait for more.
 * Streams in this process follow it token by token; others read the partial answer from
 * PostgreSQL, where it is written at most every `flushIntervalMs`.
 */
export class Generation {
  text = '';
  finished = false;
  /** Subscribers following it, and whether the last one leaving stops it (`stopOnDisconnect`). */
  listeners = 0;
  stopOnDisconnect = false;
  /** Database writes this answer took (partials and the final one). */
  writes = 0;
  readonly abort = new AbortController();
  stopReason: StopReason | null = null;
  private wakers: (() => void)[] = [];
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  readonly turnId: string;
  readonly sessionId: string;
  readonly messageId: string;

  constructor(turnId: string, sessionId: string, messageId: string) {
    this.turnId = turnId;
    this.sessionId = sessionId;
    this.messageId = messageId;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /** Resolves at the next delta or at the end (at once if already finished). */
  changed(): Promise<void> {
    if (this.finished) return Promise.resolve();
    return new Promise((resolve) => this.wakers.push(resolve));
  }

  append(text: string): void {
    this.text += text;
    this.wake();
  }

  stop(reason: StopReason): void {
    if (this.finished || this.abort.signal.aborted) return;
    this.stopReason = reason;
    this.abort.abort(new Error(reason));
  }

  finish(): void {
    this.finished = true;
    this.wake();
    this.resolveDone();
  }

  private wake(): void {
    const wakers = this.wakers;
    this.wakers = [];
    for (const wake of wakers) wake();
  }
}

export interface ConversationLoopOptions {
  orm: MikroORM;
  defaults: ChatDefaults;
  limits: ContentLimits;
  /** Who writes answers here: the identity of this process's listening connection. */
  holder: () => Holder;
  memories?: MemoriesSource;
  /** Picks the responder for a conversation's settings; by default from `defaults`. */
  responderFor?: (settings: ChatSettings) => Responder;
  onError?: (error: unknown, context: string) => void;
}

const FINISHED = new Set(['completed', 'incomplete', 'interrupted', 'cancelled']);
const WAIT_POLL_MS = 100;

/**
 * The conversation loop of one API process: sends, generations running here, cancellation.
 * One per process (created with the server, never a module singleton); several processes on one
 * database coordinate only through it (row locks, chat_turns, the change channel).
 */
export class ConversationLoop {
  private readonly active = new Map<string, Generation>();
  private readonly running = new Set<Promise<void>>();
  private closed = false;
  private readonly memories: MemoriesSource;
  private readonly responderFor: (settings: ChatSettings) => Responder;
  private readonly onError: (error: unknown, context: string) => void;

  private readonly options: ConversationLoopOptions;

  constructor(options: ConversationLoopOptions) {
    this.options = options;
    this.memories = options.memories ?? storedMemories;
    this.onError = options.onError ?? (() => undefined);
    const { defaults } = options;
    const builtin = builtinResponder({ tokenDelayMs: defaults.builtinTokenDelayMs });
    const openai = openAiResponder(defaults.openai);
    this.responderFor = options.responderFor ?? ((settings) => (settings.responder === 'openai' ? openai : builtin));
  }

  /** The answer of `turnId` if it is being generated in this process. */
  generation(turnId: string): Generation | undefined {
    return this.active.get(turnId);
  }

  /** Someone (in any process) asked `turnId` to stop; stops it if it runs here. */
  stopLocal(turnId: string, reason: StopReason): void {
    this.active.get(turnId)?.stop(reason);
  }

  /**
   * Commits the user's message, then (per the session's strategy when an answer is still being
   * generated) starts the answer here, queues it, or refuses. A send repeating a
   * `clientMessageId` returns that turn and never calls the model again.
   */
  async send(em: EntityManager, actor: Actor, input: TChatSendInput): Promise<TChatTurn> {
    if (this.closed) throw new DomainError('PRECONDITION_FAILED', 'this API process is shutting down; retry');
    const owner = ownerOf(actor.principal);
    const { turnId, start, kick, sent } = await em.transactional(async (tx) => {
      const session = await lockOwnedSession(tx, owner, input.sessionId);
      if (session === null) throw notFound('session');
      if (input.clientMessageId !== undefined) {
        const existing = await findTurnByClientMessageId(tx, session.id, input.clientMessageId);
        if (existing !== null) return { turnId: existing.id, start: null, kick: false, sent: null };
      }
      const settings = resolveChatSettings(session.project_chat, this.options.defaults);
      const strategy = input.concurrency ?? settings.concurrency;
      let { running, queued } = await sessionTurnState(tx, session.id);
      if (running !== null && !running.alive) {
        await reapDeadTurns(tx, session.id);
        running = null;
      }
      if (running !== null && strategy === 'reject') {
        throw new DomainError('CONFLICT', `turn ${running.id} is still being answered`, { turnId: running.id });
      }
      if (running !== null && strategy === 'interrupt') {
        await interruptSession(tx, session.id);
        queued = 0;
      }
      // An edit takes the edited message's place: the same predecessor, and `editOf` naming it.
      const branch = input.editOf === undefined ? null : await branchPoint(tx, session.id, input.editOf);
      if (input.editOf !== undefined && branch === null) {
        throw new DomainError('BAD_REQUEST', 'editOf must be a visible user message of this session', {
          field: 'editOf',
        });
      }
      const user = await appendMessage(
        tx,
        actor,
        {
          sessionId: session.id,
          role: 'user',
          content: input.content,
          ...(input.clientMessageId === undefined ? {} : { clientMessageId: input.clientMessageId }),
          ...(branch?.parentId == null ? {} : { parentId: branch.parentId }),
        },
        this.options.limits,
        { editOf: input.editOf ?? null },
      );
      const runNow = running === null && queued === 0;
      const answer = runNow ? await this.appendAnswer(tx, actor, session.id, user.id) : null;
      const id = await insertTurn(tx, {
        sessionId: session.id,
        userMessageId: user.id,
        assistantMessageId: answer?.id ?? null,
        clientMessageId: input.clientMessageId ?? null,
        status: runNow ? 'running' : 'queued',
        holder: runNow ? this.options.holder() : null,
      });
      recordAudit(tx, actor, {
        action: 'chat.send',
        subjectType: 'session',
        subjectId: session.id,
        details: {
          turnId: id,
          strategy,
          queued: !runNow,
          ...(input.editOf === undefined ? {} : { editOf: input.editOf }),
        },
      });
      // The turn as committed: what the caller gets back without waiting, and what the answer
      // starts from, so neither reads back what this transaction just wrote.
      const sent: TChatTurn = {
        id,
        sessionId: session.id,
        status: runNow ? 'running' : 'queued',
        stopReason: null,
        userMessage: user,
        answer,
        generationStatus: answer === null ? null : 'generating',
        context: null,
      };
      const start: GenerationStart | null =
        answer === null
          ? null
          : {
              turnId: id,
              sessionId: session.id,
              answerId: answer.id,
              userSeq: Number(user.seq),
              userContent: user.content,
              session,
            };
      return { turnId: id, start, kick: !runNow && running === null, sent };
    });
    if (start !== null) this.launch(turnId, start);
    if (kick) this.track(this.runNextQueued(input.sessionId));
    if (input.wait ?? true) await this.waitFor(turnId);
    else if (sent !== null) return sent;
    return this.turn(em, actor, turnId);
  }

  /** Stops the caller's turn: a queued one never runs; a running one keeps its partial answer. */
  async cancel(em: EntityManager, actor: Actor, turnId: string): Promise<TChatTurn> {
    const turn = await findOwnedTurn(em, ownerOf(actor.principal), turnId);
    if (turn === null) throw notFound('turn');
    if (!FINISHED.has(turn.status)) {
      await em.transactional(async (tx) => {
        if (!(await cancelQueuedTurn(tx, turnId))) await requestCancel(tx, turnId);
        recordAudit(tx, actor, {
          action: 'chat.cancel',
          subjectType: 'session',
          subjectId: turn.session_id,
          details: { turnId },
        });
      });
      this.stopLocal(turnId, 'cancelled');
      await this.waitFor(turnId, 30_000);
    }
    return this.turn(em, actor, turnId);
  }

  /** The caller's turn with its messages; NOT_FOUND for a foreign or missing one. */
  async turn(em: EntityManager, actor: Actor, turnId: string): Promise<TChatTurn> {
    const view = await readTurn(em, ownerOf(actor.principal), turnId);
    if (view === null) throw notFound('turn');
    return toTurnDto(view);
  }

  /** Resolves once `turnId` has finished (or after `timeoutMs`). */
  async waitFor(turnId: string, timeoutMs = Number.POSITIVE_INFINITY): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    const em = this.options.orm.em.fork();
    while (performance.now() < deadline) {
      const local = this.active.get(turnId);
      if (local !== undefined) {
        await local.done;
        return;
      }
      const view = await readTurn(em, null, turnId);
      if (view === null || FINISHED.has(view.turn.status)) return;
      await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
    }
  }

  /**
   * Marks answers whose writer's process died as interrupted, and runs turns left queued behind
   * them. Called at start and periodically (the reaper); harmless in every process at once.
   */
  async reap(): Promise<void> {
    const em = this.options.orm.em.fork();
    const touched = await reapDeadTurns(em);
    const stranded = await sessionsWithStrandedQueues(em);
    for (const sessionId of new Set([...touched, ...stranded])) this.track(this.runNextQueued(sessionId));
  }

  /** This process's listening connection was replaced: the answers it writes follow it. */
  async moveHolder(from: Holder, to: Holder): Promise<void> {
    await moveHolder(this.options.orm.em.fork(), from, to);
  }

  /** Stops every answer generated here (kept as interrupted, reason `shutdown`) and waits for them. */
  async close(): Promise<void> {
    this.closed = true;
    for (const generation of this.active.values()) generation.stop('shutdown');
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private async appendAnswer(
    tx: EntityManager,
    actor: Actor,
    sessionId: string,
    userMessageId: string,
  ): Promise<TMessage> {
    const answer = await appendMessage(
      tx,
      actor,
      { sessionId, role: 'assistant', content: '', parentId: userMessageId },
      this.options.limits,
    );
    await markGenerating(tx, answer.id);
    return answer;
  }

  private track(work: Promise<unknown>): void {
    const tracked = work.then(
      () => undefined,
      (error: unknown) => this.onError(error, 'conversation loop'),
    );
    this.running.add(tracked);
    void tracked.finally(() => this.running.delete(tracked));
  }

  private launch(turnId: string, start?: GenerationStart): void {
    this.track(this.generate(turnId, start));
  }

  /** What a turn started elsewhere (a queued one, say) starts from, read back; null if gone. */
  private async startOf(em: EntityManager, turnId: string): Promise<GenerationStart | null> {
    const view = await readTurn(em, null, turnId);
    const session = view === null ? null : await sessionInfo(em, view.turn.session_id);
    if (view === null || session === null || view.answer === null) return null;
    return {
      turnId,
      sessionId: view.turn.session_id,
      answerId: view.answer.id,
      userSeq: view.user.seq === undefined ? 0 : Number(view.user.seq),
      userContent: view.user.content,
      session,
    };
  }

  /** Starts the oldest queued turn of a session when none runs. */
  private async runNextQueued(sessionId: string): Promise<void> {
    if (this.closed) return;
    const em = this.options.orm.em.fork();
    const next = await em.transactional(async (tx) => {
      const session = await lockSession(tx, sessionId);
      if (session === null) return null;
      const { running } = await sessionTurnState(tx, sessionId);
      if (running !== null) {
        if (running.alive) return null;
        await reapDeadTurns(tx, sessionId);
      }
      const queued = await oldestQueuedTurn(tx, sessionId);
      if (queued === null) return null;
      const actor: Actor = { principal: principalOf(session), requestId: null };
      const answer = await this.appendAnswer(tx, actor, sessionId, queued.user_message_id);
      await startQueuedTurn(tx, queued.id, answer.id, this.options.holder());
      return queued.id;
    });
    if (next !== null) this.launch(next);
  }

  private async generate(turnId: string, known?: GenerationStart): Promise<void> {
    const em = this.options.orm.em.fork();
    const start = known ?? (await this.startOf(em, turnId));
    if (start === null) return;
    const { session } = start;
    const { defaults } = this.options;
    const holder = this.options.holder();
    const settings = resolveChatSettings(session.project_chat, defaults);
    const principal = principalOf(session);
    const generation = new Generation(turnId, start.sessionId, start.answerId);
    generation.stopOnDisconnect = settings.stopOnDisconnect;
    this.active.set(turnId, generation);
    const announce = { sessionId: generation.sessionId, userId: session.user_id, anonymousId: session.anonymous_id };
    const started = performance.now();
    let usage: { promptTokens: number; completionTokens: number } | null = null;
    let failure: 'timeout' | 'model_error' | null = null;
    let lost = false;
    let context: Awaited<ReturnType<typeof assembleContext>> | null = null;

    // Bounded writes: the partial answer goes to PostgreSQL at most every flushIntervalMs,
    // however fast the tokens come; never two writes at once.
    let flushing: Promise<void> | null = null;
    let timer: NodeJS.Timeout | null = null;
    let lastFlush = performance.now();
    let flushedLength = 0;
    const flush = async () => {
      timer = null;
      if (generation.text.length === flushedLength || lost) return;
      const text = generation.text;
      lastFlush = performance.now();
      generation.writes++;
      const outcome = await writePartial(em.fork(), turnId, generation.messageId, holder, sanitizeText(text), announce);
      flushedLength = text.length;
      if (outcome === null) {
        lost = true;
        generation.stop('interrupted');
      } else if (outcome.cancelRequested) {
        generation.stop('cancelled');
      }
    };
    const scheduleFlush = () => {
      if (timer !== null || flushing !== null) return;
      const wait = Math.max(0, defaults.flushIntervalMs - (performance.now() - lastFlush));
      timer = setTimeout(() => {
        flushing = flush()
          .catch((error: unknown) => this.onError(error, 'writing a partial answer'))
          .finally(() => {
            flushing = null;
            if (generation.text.length > flushedLength && !generation.finished) scheduleFlush();
          });
      }, wait);
    };

    try {
      context = await assembleContext(em, {
        principal,
        sessionId: generation.sessionId,
        projectId: session.project_id,
        userSeq: start.userSeq,
        userContent: start.userContent,
        systemPrompt: settings.systemPrompt,
        tokenBudget: defaults.contextTokens,
        memories: this.memories,
        responder: settings.responder,
        model: settings.model,
      });
      const responder = this.responderFor(settings);
      for await (const event of responder.respond({
        model: settings.model,
        messages: context.messages,
        signal: generation.abort.signal,
      })) {
        if (generation.abort.signal.aborted) break;
        if (event.type === 'delta') {
          // NULs cannot be stored; replaced here so every reader sees the same text at the same offsets.
          generation.append(event.text.replaceAll('\0', '\uFFFD'));
          scheduleFlush();
        } else {
          usage = { promptTokens: event.promptTokens, completionTokens: event.completionTokens };
        }
      }
    } catch (error) {
      if (!generation.abort.signal.aborted) {
        failure = error instanceof ResponderError ? error.reason : 'model_error';
        if (!(error instanceof ResponderError)) this.onError(error, 'generating an answer');
      }
    } finally {
      if (timer !== null) clearTimeout(timer);
      await flushing;
    }

    const stopReason = generation.stopReason ?? failure;
    // Only a shutdown leaves the answer `interrupted`; a cancel or an interrupting send leaves it `incomplete`.
    const interrupted = stopReason === 'shutdown';
    const content = sanitizeText(generation.text);
    try {
      if (!lost) {
        generation.writes++;
        await finishTurn(em.fork(), turnId, generation.messageId, holder, {
          content,
          sanitized: content !== generation.text,
          turnStatus: stopReason === null ? 'completed' : interrupted ? 'interrupted' : 'incomplete',
          generationStatus: stopReason === null ? 'complete' : interrupted ? 'interrupted' : 'incomplete',
          stopReason,
          model: settings.model,
          promptTokens: usage?.promptTokens ?? context?.record.tokenEstimate ?? 0,
          completionTokens: usage?.completionTokens ?? estimateTokens(generation.text),
          latencyMs: Math.round(performance.now() - started),
          price: defaults.prices[settings.model] ?? null,
          context: context?.record ?? {},
          audit: { ...auditActorOf(principal), requestId: null },
        });
      }
    } finally {
      this.active.delete(turnId);
      generation.finish();
    }
    if (!this.closed) await this.runNextQueued(generation.sessionId);
  }
}

/** What an answer starts from: its turn, its user message, and its session's owner and settings. */
interface GenerationStart {
  turnId: string;
  sessionId: string;
  answerId: string;
  userSeq: number;
  userContent: string;
  session: SessionOfTurn;
}

/** The principal a session's owner is, for work the loop does on their behalf. */
function principalOf(session: { user_id: string | null; anonymous_id: string | null }): Principal {
  return session.user_id !== null
    ? { kind: 'user', userId: session.user_id, role: 'user' }
    : { kind: 'anonymous', anonymousId: session.anonymous_id! };
}

export function toTurnDto({ turn, user, answer }: TurnView): TChatTurn {
  return {
    id: turn.id,
    sessionId: turn.session_id,
    status: turn.status,
    stopReason: turn.stop_reason,
    userMessage: toMessage(user),
    answer: answer === null ? null : toMessage(answer),
    generationStatus: answer?.generation_status ?? null,
    context: answer?.context_record ?? null,
  };
}
