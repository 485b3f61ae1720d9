import { ChatSessionSchema, type MikroORM } from '@threadstore/db';
import { ownerOf, type Principal } from '@threadstore/domain';
import { createTestUser } from '@threadstore/domain/testing';
import { TRPCError } from '@trpc/server';
import { callerAs } from '../../testing/caller.ts';

// Fixtures for the tests of the messages procedures: sessions to write into, and the rows the
// procedures leave behind, read straight from the tables rather than through the API under test.

export async function signedInUser(orm: MikroORM): Promise<Principal> {
  return (await createTestUser(orm.em.fork())).principal;
}

/** A new session owned by `principal`'s user or anonymous id; its id. */
export async function createSession(orm: MikroORM, principal: Principal): Promise<string> {
  const em = orm.em.fork();
  const owner = ownerOf(principal);
  const session = em.create(
    ChatSessionSchema,
    owner.userId !== undefined ? { user: owner.userId } : { anonymousId: owner.anonymousId },
  );
  await em.flush();
  return session.id;
}

export async function softDeleteSession(orm: MikroORM, sessionId: string): Promise<void> {
  await orm.em.fork().execute('update chat_sessions set deleted_at = now() where id = ?', [sessionId]);
}

export interface SessionCounters {
  lastSeq: number;
  messageCount: number;
  lastMessageAt: string | null;
}

export async function sessionCounters(orm: MikroORM, sessionId: string): Promise<SessionCounters> {
  const [row] = await orm.em
    .fork()
    .execute<{ last_seq: string; message_count: string; last_message_at: string | null }[]>(
      'select last_seq, message_count, last_message_at from chat_sessions where id = ?',
      [sessionId],
    );
  return {
    lastSeq: Number(row!.last_seq),
    messageCount: Number(row!.message_count),
    lastMessageAt: row!.last_message_at,
  };
}

export interface StoredMessage {
  id: string;
  seq: number;
  content: string;
  clientMessageId: string | null;
  deleted: boolean;
}

/** Every message row of the session, deleted ones included, by seq. */
export async function storedMessages(orm: MikroORM, sessionId: string): Promise<StoredMessage[]> {
  const rows = await orm.em
    .fork()
    .execute<{ id: string; seq: string; content: string; client_message_id: string | null; deleted: boolean }[]>(
      'select id, seq, content, client_message_id, deleted_at is not null as deleted from chat_messages where session_id = ? order by seq',
      [sessionId],
    );
  return rows.map((row) => ({
    id: row.id,
    seq: Number(row.seq),
    content: row.content,
    clientMessageId: row.client_message_id,
    deleted: row.deleted,
  }));
}

export interface AuditRow {
  actorType: string;
  actorId: string | null;
  action: string;
  subjectType: string | null;
  subjectId: string | null;
  details: Record<string, unknown>;
  requestId: string | null;
}

/** The audit rows of `action`, oldest first. */
export async function auditRows(orm: MikroORM, action: string): Promise<AuditRow[]> {
  const rows = await orm.em.fork().execute<
    {
      actor_type: string;
      actor_id: string | null;
      action: string;
      subject_type: string | null;
      subject_id: string | null;
      details: Record<string, unknown>;
      request_id: string | null;
    }[]
  >('select * from audit_log where action = ? order by id', [action]);
  return rows.map((row) => ({
    actorType: row.actor_type,
    actorId: row.actor_id,
    action: row.action,
    subjectType: row.subject_type,
    subjectId: row.subject_id,
    details: row.details,
    requestId: row.request_id,
  }));
}

/** A new user with a session of theirs and the API as them. */
export async function userWithSession(orm: MikroORM) {
  const user = await signedInUser(orm);
  const sessionId = await createSession(orm, user);
  return { user, sessionId, api: callerAs(orm, user) };
}

/** The error a call was refused with; fails when it succeeds or throws anything else. */
export async function refusal(call: Promise<unknown>): Promise<TRPCError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof TRPCError) return error;
    throw error;
  }
  throw new Error('the call succeeded');
}
