import type { TSession, TSessionWatchEvent } from '@threadstore/contract';
import { ChatSessionSchema, type EntityManager } from '@threadstore/db';
import { toMessage } from '../messages/rows.ts';
import { ownerFilter, type Owner } from '../principal.ts';
import { toSessionDto } from '../sessions/dto.ts';
import { changedMessages } from './sql.ts';

/** Messages one catch-up delivers at most; the next wake-up continues from there. */
const CATCH_UP_BATCH = 500;

/**
 * A session watcher's memory of what it delivered: the last seq, the session's state, and the
 * answers it saw generating. `next` answers what changed since, read as the owner may read it.
 * `lastEventId` (the seq it last saw) lets a reconnecting watcher catch up exactly.
 */
export class SessionWatch {
  seq: number;
  private sessionState: string | null = null;
  private readonly generating = new Map<string, string>();
  private readonly owner: Owner;
  private readonly sessionId: string;

  constructor(owner: Owner, sessionId: string, afterSeq: number) {
    this.owner = owner;
    this.sessionId = sessionId;
    this.seq = afterSeq;
  }

  /** Null once the session is gone (deleted, or never the owner's). */
  async next(em: EntityManager): Promise<TSessionWatchEvent[] | null> {
    const session = await em.findOne(ChatSessionSchema, {
      id: this.sessionId,
      ...ownerFilter(this.owner),
      deletedAt: null,
    });
    if (session === null) return null;
    const events: TSessionWatchEvent[] = [];
    const dto = toSessionDto(session);
    const state = `${dto.version}|${dto.updatedAt}|${dto.lastSeq}`;
    if (state !== this.sessionState) {
      this.sessionState = state;
      events.push({ type: 'session', session: dto });
    }
    const rows = await changedMessages(
      em,
      this.owner,
      this.sessionId,
      this.seq,
      [...this.generating.keys()],
      CATCH_UP_BATCH,
    );
    for (const row of rows) {
      const message = toMessage(row);
      const progress = `${message.content.length}|${row.generation_status}`;
      const isNew = message.seq > this.seq;
      if (isNew) this.seq = message.seq;
      if (isNew || this.generating.get(message.id) !== progress) {
        events.push({ type: 'message', message, generationStatus: row.generation_status });
      }
      if (row.generation_status === 'generating') this.generating.set(message.id, progress);
      else this.generating.delete(message.id);
    }
    return events;
  }
}

/** The owner's sessions changed after `since` (a catch-up after missed notifications), oldest change first. */
export async function sessionsChangedSince(
  em: EntityManager,
  owner: Owner,
  since: Date,
  limit = 200,
): Promise<TSession[]> {
  const sessions = await em.find(
    ChatSessionSchema,
    { ...ownerFilter(owner), updatedAt: { $gt: since } },
    { orderBy: { updatedAt: 'asc', id: 'asc' }, limit },
  );
  return sessions.map(toSessionDto);
}

/** The owner's sessions among `ids` (deleted ones included, so a list can drop them). */
export async function ownedSessionsByIds(em: EntityManager, owner: Owner, ids: readonly string[]): Promise<TSession[]> {
  if (ids.length === 0) return [];
  const sessions = await em.find(
    ChatSessionSchema,
    { id: { $in: [...ids] }, ...ownerFilter(owner) },
    { orderBy: { updatedAt: 'asc' } },
  );
  return sessions.map(toSessionDto);
}
