import { CHANGES_CHANNEL } from '@threadstore/db';
import { DomainError, type AnnounceChange, type Holder, type StopReason } from '@threadstore/domain';
import type { Logger } from '@threadstore/runtime';
import pg from 'pg';

/** What a notification says: which session changed and whose it is. Ids only, never content. */
export interface ChangeNotice {
  sessionId: string;
  userId: string | null;
  anonymousId: string | null;
}

type Listener = (notice: ChangeNotice | null) => void;

/** The key `subscribeOwner` files a principal's sessions under. */
export function ownerKey(owner: { userId?: string | undefined; anonymousId?: string | undefined }): string {
  return owner.userId !== undefined ? `u:${owner.userId}` : `a:${owner.anonymousId}`;
}

const RECONNECT_MIN_MS = 100;
/**
 * Database reads subscriptions of one process run at once, at most. A thousand watchers opening
 * (or catching up after a reconnect) together then queue here, in memory, instead of emptying
 * the connection pool for everyone else and timing out waiting for it.
 */
const SUBSCRIPTION_READS = 4;
const RECONNECT_MAX_MS = 5_000;

/**
 * The change feed of one API process: ONE PostgreSQL connection LISTENing on the changes channel,
 * fanned out in memory to every subscription of the process (a subscription costs a Set entry,
 * not a connection). Notifications carry ids only; subscribers re-read what they may see.
 * After a lost connection it reconnects and wakes every subscriber (`null` notice) so each
 * catches up from what it last delivered. Its connection also names this process as the writer
 * of the answers it generates (see Holder).
 */
export class ChangeFeed {
  private client: pg.Client | null = null;
  private current: Holder | null = null;
  private stopped = false;
  private reconnectDelay = RECONNECT_MIN_MS;
  private readonly sessions = new Map<string, Set<Listener>>();
  private readonly owners = new Map<string, Set<Listener>>();
  private readonly cancelHandlers: ((turnId: string, reason: StopReason) => void)[] = [];
  private readonly holderHandlers: ((from: Holder, to: Holder) => void)[] = [];
  private readonly closers = new Set<() => void>();
  private readonly config: pg.ClientConfig;
  private readonly logger: Logger;
  private readonly readSlots = new Semaphore(SUBSCRIPTION_READS);

  constructor(config: pg.ClientConfig, logger: Logger) {
    this.config = config;
    this.logger = logger;
  }

  /**
   * Connects in the background (a database that is down or silent must not keep the server from
   * listening and answering its probes); retries until it succeeds or the feed stops.
   */
  start(onConnected: () => void): void {
    this.connected = onConnected;
    this.connect().catch((error: unknown) => {
      this.logger.warn({ err: error }, 'change feed cannot connect yet');
      this.reconnect();
    });
  }

  private connected: () => void = () => undefined;

  /** This process's identity as a writer; valid once started. */
  holder(): Holder {
    if (this.current === null) {
      throw new DomainError('PRECONDITION_FAILED', 'this API process is not connected to the change feed yet; retry');
    }
    return this.current;
  }

  get subscriptions(): number {
    let count = 0;
    for (const set of this.sessions.values()) count += set.size;
    for (const set of this.owners.values()) count += set.size;
    return count;
  }

  /**
   * Wake-ups for one subscription: on every notice about `target` (one session, or all of an
   * owner's), and once when the feed shuts down. `stop` when the subscription ends.
   */
  follow(
    target: { sessionId: string } | { ownerKey: string },
    options: { keepNotices?: boolean } = {},
  ): { wakeups: Wakeups; stop(): void } {
    const wakeups = new Wakeups(options);
    const unsubscribe =
      'sessionId' in target
        ? this.subscribeSession(target.sessionId, wakeups.wake)
        : this.subscribeOwner(target.ownerKey, wakeups.wake);
    const unclose = this.onClose(wakeups.close);
    return {
      wakeups,
      stop: () => {
        unsubscribe();
        unclose();
      },
    };
  }

  /** Runs a subscription's database read when one of the process's few read slots is free. */
  read<T>(work: () => Promise<T>): Promise<T> {
    return this.readSlots.run(work);
  }

  subscribeSession(sessionId: string, listener: Listener): () => void {
    return add(this.sessions, sessionId, listener);
  }

  subscribeOwner(key: string, listener: Listener): () => void {
    return add(this.owners, key, listener);
  }

  onCancel(handler: (turnId: string, reason: StopReason) => void): void {
    this.cancelHandlers.push(handler);
  }

  onHolderChange(handler: (from: Holder, to: Holder) => void): void {
    this.holderHandlers.push(handler);
  }

  /** Called when the feed stops for good (server shutdown): subscriptions end. */
  onClose(closer: () => void): () => void {
    this.closers.add(closer);
    return () => this.closers.delete(closer);
  }

  /**
   * What an append hands the domain so that it announces its change after its commit, instead of
   * the session trigger's NOTIFY inside its transaction (see appendStatement's `quiet` in
   * packages/domain/src/messages/append.ts: a notifying commit holds a cluster-wide lock until
   * its WAL is flushed, so notifying appends cannot group-commit). Undefined while the feed is
   * not connected: the trigger then announces the append as it always did.
   */
  announcer(): AnnounceChange | undefined {
    return this.client === null || this.stopped ? undefined : this.announce;
  }

  private readonly toAnnounce = new Map<string, ChangeNotice>();
  private announcing: Promise<void> | null = null;

  /**
   * Queues the notice; notices queued while one statement sends are sent together by the next
   * (one NOTIFY transaction for many appends, one session once however often it changed).
   */
  private readonly announce: AnnounceChange = ({ sessionId, owner }) => {
    this.toAnnounce.set(sessionId, { sessionId, userId: owner.userId ?? null, anonymousId: owner.anonymousId ?? null });
    this.announcing ??= this.sendAnnouncements().finally(() => (this.announcing = null));
  };

  private async sendAnnouncements(): Promise<void> {
    while (this.toAnnounce.size > 0) {
      const notices = [...this.toAnnounce.values()];
      this.toAnnounce.clear();
      const client = this.client;
      try {
        if (client === null) throw new Error('not connected');
        await client.query(`select pg_notify($1, payload) from unnest($2::text[]) as payload`, [
          CHANGES_CHANNEL,
          notices.map((n) => JSON.stringify({ s: n.sessionId, u: n.userId, a: n.anonymousId })),
        ]);
      } catch (error) {
        // The changes are committed; what is lost is the nudge. This process's subscribers
        // re-read everything when the feed reconnects; other processes' learn at the session's
        // next change.
        this.logger.warn({ err: error, sessions: notices.length }, 'change feed could not announce changes');
      }
    }
  }

  /** Resolves once everything announced so far has been sent (or given up on). */
  async announced(): Promise<void> {
    while (this.announcing !== null) await this.announcing;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // Changes already committed are announced before the connection closes.
    await this.announced();
    for (const close of [...this.closers]) close();
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ ...this.config, application_name: 'threadstore-api-feed' });
    client.on('notification', (message) => this.dispatch(message.payload));
    client.on('error', (error) => {
      this.logger.warn({ err: error }, 'change feed connection failed');
    });
    client.on('end', () => {
      if (this.client === client) this.reconnect();
    });
    await client.connect();
    if (this.stopped) {
      await client.end();
      return;
    }
    await client.query(`listen ${CHANGES_CHANNEL}`);
    const { rows } = await client.query<{ pid: number; started_at: string }>(
      'select pid, backend_start::text as started_at from pg_stat_activity where pid = pg_backend_pid()',
    );
    const previous = this.current;
    this.current = { pid: rows[0]!.pid, startedAt: rows[0]!.started_at };
    this.client = client;
    this.reconnectDelay = RECONNECT_MIN_MS;
    this.connected();
    if (previous !== null) {
      for (const handler of this.holderHandlers) handler(previous, this.current);
      // Anything may have changed while no one listened: every subscriber re-reads.
      for (const set of [...this.sessions.values(), ...this.owners.values()])
        for (const listener of set) listener(null);
    }
  }

  private reconnect(): void {
    this.client = null;
    if (this.stopped) return;
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(delay * 2, RECONNECT_MAX_MS);
    setTimeout(() => {
      if (this.stopped) return;
      this.connect().catch((error: unknown) => {
        this.logger.warn({ err: error }, 'change feed cannot reconnect yet');
        this.reconnect();
      });
    }, delay).unref();
  }

  private dispatch(payload: string | undefined): void {
    let parsed: { s?: string; u?: string | null; a?: string | null; c?: string; r?: StopReason };
    try {
      parsed = JSON.parse(payload ?? '') as typeof parsed;
    } catch {
      return;
    }
    if (typeof parsed.c === 'string') {
      for (const handler of this.cancelHandlers) handler(parsed.c, parsed.r ?? 'cancelled');
      return;
    }
    if (typeof parsed.s !== 'string') return;
    const notice: ChangeNotice = { sessionId: parsed.s, userId: parsed.u ?? null, anonymousId: parsed.a ?? null };
    for (const listener of this.sessions.get(notice.sessionId) ?? []) listener(notice);
    const key =
      notice.userId !== null ? `u:${notice.userId}` : notice.anonymousId !== null ? `a:${notice.anonymousId}` : null;
    if (key !== null) for (const listener of this.owners.get(key) ?? []) listener(notice);
  }
}

function add(map: Map<string, Set<Listener>>, key: string, listener: Listener): () => void {
  let set = map.get(key);
  if (set === undefined) map.set(key, (set = new Set()));
  set.add(listener);
  return () => {
    set.delete(listener);
    if (set.size === 0 && map.get(key) === set) map.delete(key);
  };
}

/**
 * Turns notifications into "something changed" wake-ups for one subscription: `next()` resolves
 * at the next notice (or at once when one arrived since the last call), after `timeoutMs` at the
 * latest, or when the signal aborts or the feed closes.
 */
export class Wakeups {
  private readonly keepNotices: boolean;
  private pending = false;
  private resolve: (() => void) | null = null;
  closed = false;
  /** The notices since the reader last took them (kept only with `keepNotices`). */
  readonly notices: ChangeNotice[] = [];

  constructor({ keepNotices = false }: { keepNotices?: boolean } = {}) {
    this.keepNotices = keepNotices;
  }

  wake = (notice: ChangeNotice | null): void => {
    if (notice !== null && this.keepNotices) this.notices.push(notice);
    this.pending = true;
    this.resolve?.();
  };

  close = (): void => {
    this.closed = true;
    this.resolve?.();
  };

  next(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.pending || this.closed || signal?.aborted) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.resolve = null;
        this.pending = false;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done, { once: true });
      this.resolve = done;
    });
  }
}

/** At most `limit` tasks at once; the rest wait their turn, first come first served. */
class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next === undefined) this.active--;
      else next();
    }
  }
}
