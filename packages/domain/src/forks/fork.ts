import type { ContentLimits, TForkSessionInput, TForkSessionOutput } from '@threadstore/contract';
import { ChatSessionSchema, UniqueConstraintViolationException, uuidv7, type EntityManager } from '@threadstore/db';
import { DomainError, notFound } from '../errors.ts';
import { query } from '../messages/sql.ts';
import { ownerFilter, ownerOf, type Actor } from '../principal.ts';
import { cleanText } from '../sessions/content.ts';
import { toSessionDto } from '../sessions/dto.ts';
import { forkSettings, forkStatement } from './sql.ts';

/**
 * A new session of the actor's with copies of a session's visible messages (see ZForkSessionInput),
 * written by one statement (`forkStatement`). NOT_FOUND for a session or message that is not the
 * actor's, deleted, or missing. With a clientKey, a retry returns the session the first call made;
 * the key on a session that is not a fork of the same source is a CONFLICT.
 */
export async function forkSession(
  em: EntityManager,
  actor: Actor,
  input: TForkSessionInput,
  limits: ContentLimits,
): Promise<TForkSessionOutput> {
  const title = cleanText(input.title, 'title', limits) ?? null;
  const clientKey = input.clientKey ?? null;
  if (clientKey !== null) {
    const earlier = await earlierFork(em, actor, input, clientKey);
    if (earlier !== null) return earlier;
  }
  const statement = forkStatement(actor, {
    sessionId: input.sessionId,
    messageId: input.messageId ?? null,
    path: input.path,
    title,
    clientKey,
    newSessionId: uuidv7(),
  });
  let result: { source_found: boolean; cut_found: boolean; session_id: string | null; copied: number } | undefined;
  try {
    [result] = await em.transactional(async (tx) => {
      await query(tx, forkSettings(input.path), []);
      return query<NonNullable<typeof result>>(tx, statement.text, statement.values);
    });
  } catch (error) {
    if (!(error instanceof UniqueConstraintViolationException) || clientKey === null) throw error;
    // A concurrent fork with the same key committed first: answer with its session.
    const winner = await earlierFork(em, actor, input, clientKey);
    if (winner === null) throw new DomainError('CONFLICT', 'the session was removed while it was being forked; retry');
    return winner;
  }
  if (result?.source_found !== true) throw notFound('session');
  if (!result.cut_found || result.session_id === null) throw notFound('message');
  const session = await em.fork().findOneOrFail(ChatSessionSchema, { id: result.session_id });
  return { session: toSessionDto(session), copied: result.copied, created: true };
}

/** The session an earlier fork with `clientKey` made, if it forked the same source; CONFLICT for another use of the key. */
async function earlierFork(
  em: EntityManager,
  actor: Actor,
  input: TForkSessionInput,
  clientKey: string,
): Promise<TForkSessionOutput | null> {
  const session = await em.fork().findOne(ChatSessionSchema, { ...ownerFilter(ownerOf(actor.principal)), clientKey });
  if (session === null) return null;
  const sameSource =
    session.forkedFromSessionId === input.sessionId &&
    (input.messageId === undefined || session.forkedFromMessageId === input.messageId);
  if (!sameSource || session.deletedAt) {
    throw new DomainError('CONFLICT', 'you already have a session with this clientKey that is not this fork', {
      field: 'clientKey',
    });
  }
  const [copies] = await query<{ n: number }>(
    em,
    `select count(*)::int as n from chat_messages where session_id = $1 and forked_from_id is not null`,
    [session.id],
  );
  return { session: toSessionDto(session), copied: copies?.n ?? 0, created: false };
}
