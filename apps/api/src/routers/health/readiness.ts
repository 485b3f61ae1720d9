import { readPendingMigrations, type MikroORM } from '@threadstore/db';
import type { Logger } from '@threadstore/runtime';

export interface DatabaseHealth {
  reachable: boolean;
  /** Round trip of a trivial query, in milliseconds; null when the database did not answer. */
  latencyMs: number | null;
  /** Migrations this build ships that the database lacks; empty when that could not be read. */
  pendingMigrations: string[];
}

export interface Readiness {
  ready: boolean;
  database: DatabaseHealth;
  /** Why it is not ready, worded for any client: no host names, no driver messages. */
  problems: string[];
}

export interface ReadinessOptions {
  /** The whole check (ping and migration status) answers within this, whatever the database does. */
  timeoutMs: number;
  /** Where the underlying errors go, since `problems` deliberately omits them. */
  logger: Logger;
}

/**
 * Whether this process can serve requests that need the database: it answers, and its schema is
 * the one this build expects. Never throws and never outlives `timeoutMs`: a probe that hangs
 * on a dead database would be reported by the orchestrator as a timeout, with no reason.
 */
export async function checkReadiness(orm: MikroORM, { timeoutMs, logger }: ReadinessOptions): Promise<Readiness> {
  const started = performance.now();
  const deadline = started + timeoutMs;

  const ping = await settleWithin(orm.em.getConnection().execute('select 1'), timeoutMs);
  if (ping.outcome !== 'fulfilled') {
    const problem =
      ping.outcome === 'timed_out' ? `database did not answer within ${timeoutMs} ms` : 'database is unreachable';
    logger.warn({ err: ping.outcome === 'rejected' ? ping.reason : undefined, timeoutMs }, `not ready: ${problem}`);
    return notReady({ reachable: false, latencyMs: null, pendingMigrations: [] }, problem);
  }
  const latencyMs = roundMs(performance.now() - started);

  const status = await settleWithin(readPendingMigrations(orm), deadline - performance.now());
  if (status.outcome !== 'fulfilled') {
    // Reachable, but the status read failed or waited too long: most likely a migration holds
    // the migrations table while it runs, so the schema is about to change under us.
    const problem =
      status.outcome === 'timed_out'
        ? `migration status not readable within ${timeoutMs} ms`
        : 'migration status not readable';
    logger.warn({ err: status.outcome === 'rejected' ? status.reason : undefined, timeoutMs }, `not ready: ${problem}`);
    return notReady({ reachable: true, latencyMs, pendingMigrations: [] }, problem);
  }
  const pending = status.value;
  if (pending.length > 0) {
    const problem = `${pending.length} migration(s) not applied: ${pending.join(', ')}`;
    logger.warn({ pending }, `not ready: ${problem}`);
    return notReady({ reachable: true, latencyMs, pendingMigrations: pending }, problem);
  }
  return { ready: true, database: { reachable: true, latencyMs, pendingMigrations: [] }, problems: [] };
}

/** Answers readiness questions from one shared, recently refreshed status. */
export interface ReadinessMonitor {
  /** The status at most `maxAgeMs` old; concurrent callers share one refresh. */
  current(): Promise<Readiness>;
}

/**
 * Probes and health checks are unauthenticated and may arrive by the hundred at once (an
 * orchestrator, a load balancer, a curious visitor): each answer comes from a status refreshed at
 * most once per `maxAgeMs`, by a single check at a time, so however many ask, the database sees
 * at most one cheap check (one pooled connection, one statement at a time) per interval.
 */
export function createReadinessMonitor(
  orm: MikroORM,
  { maxAgeMs = 1_000, ...options }: ReadinessOptions & { maxAgeMs?: number },
): ReadinessMonitor {
  let last: { at: number; readiness: Readiness } | undefined;
  let refreshing: Promise<Readiness> | undefined;
  return {
    current() {
      if (last !== undefined && performance.now() - last.at < maxAgeMs) return Promise.resolve(last.readiness);
      refreshing ??= checkReadiness(orm, options)
        .then((readiness) => {
          last = { at: performance.now(), readiness };
          return readiness;
        })
        .finally(() => {
          refreshing = undefined;
        });
      return refreshing;
    },
  };
}

function notReady(database: DatabaseHealth, problem: string): Readiness {
  return { ready: false, database, problems: [problem] };
}

function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}

type Settled<T> =
  { outcome: 'fulfilled'; value: T } | { outcome: 'rejected'; reason: unknown } | { outcome: 'timed_out' };

/**
 * Waits for `promise` at most `ms`. The losing operation is not cancelled (pg cannot abandon a
 * connection attempt); it finishes or fails in the background, bounded by the pool's own
 * connect and statement timeouts, and its rejection is handled here so it cannot crash the process.
 */
async function settleWithin<T>(promise: Promise<T>, ms: number): Promise<Settled<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<Settled<T>>((resolve) => {
    timer = setTimeout(() => resolve({ outcome: 'timed_out' }), Math.max(0, ms));
  });
  try {
    return await Promise.race([
      promise.then(
        (value): Settled<T> => ({ outcome: 'fulfilled', value }),
        (reason: unknown): Settled<T> => ({ outcome: 'rejected', reason }),
      ),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
