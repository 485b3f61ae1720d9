import type {
  ContentLimits,
  TAcademyConversation,
  TAcademyConversationPage,
  TCompleteAcademyConversationOutput,
  TListAcademyConversationsInput,
  TStartAcademyConversationInput,
} from '@threadstore/contract';
import {
  AcademyConversationSchema,
  AcademyMissionSchema,
  LockMode,
  type AcademyConversation,
  type EntityManager,
} from '@threadstore/db';
import * as z from 'zod';
import { recordAudit } from '../audit.ts';
import { DomainError, notFound } from '../errors.ts';
import { query } from '../messages/sql.ts';
import { pageSize } from '../paging.ts';
import type { Actor } from '../principal.ts';
import { cleanText } from '../sessions/content.ts';
import { createSession } from '../sessions/create.ts';
import { toSessionDto } from '../sessions/dto.ts';
import { completeSession } from '../sessions/run.ts';
import { ensureLearner, learnerOf } from './profile.ts';
import { insertLedgerRow } from './sql.ts';

/**
 * The server's rule for conversations: completing an academy conversation in which the learner
 * and the agent both spoke pays this much XP, once per conversation, as a ledger row with reason
 * `academy_conversation` (a mission can count them: `{"measure":"events","reason":"academy_conversation"}`).
 */
export const CONVERSATION_COMPLETED_XP = 20;
export const CONVERSATION_COMPLETED_REASON = 'academy_conversation';
/**
 * Paid conversations per learner per UTC day. The learner owns the session and so could write both
 * sides of a conversation; the cap bounds what that can earn (a completion over it pays nothing).
 */
export const CONVERSATIONS_PAID_PER_DAY = 10;

export function toConversationDto(conversation: AcademyConversation): TAcademyConversation {
  return {
    id: conversation.id,
    persona: conversation.persona ?? null,
    missionId: conversation.mission?.id ?? null,
    topic: conversation.topic,
    completedAt: conversation.completedAt?.toISOString() ?? null,
    createdAt: conversation.createdAt.toISOString(),
    session: toSessionDto(conversation.session),
  };
}

/**
 * A chat session of the learner's own, tied to an agent persona and (optionally) a mission on
 * offer: messages go through messages.*, the run through sessions.*, like any other session.
 */
export async function startAcademyConversation(
  em: EntityManager,
  actor: Actor,
  input: TStartAcademyConversationInput,
  limits: ContentLimits,
): Promise<TAcademyConversation> {
  const userId = learnerOf(actor);
  const persona = cleanText(input.persona, 'persona', limits);
  const topic = cleanText(input.topic, 'topic', limits);
  await ensureLearner(em, userId);
  return em.transactional(async (tx) => {
    if (input.missionId !== undefined) {
      const mission = await tx.findOne(AcademyMissionSchema, { id: input.missionId, retiredAt: null });
      if (mission === null) throw notFound('mission');
    }
    const session = await createSession(
      tx,
      actor,
      { title: topic, agentId: persona, metadata: { academy: { persona, missionId: input.missionId ?? null } } },
      limits,
    );
    const conversation = tx.create(AcademyConversationSchema, {
      user: userId,
      session: session.id,
      persona,
      topic,
      mission: input.missionId ?? null,
    });
    recordAudit(tx, actor, {
      action: 'academy.startConversation',
      subjectType: 'academy_conversation',
      subjectId: conversation.id,
      details: { sessionId: session.id, persona, missionId: input.missionId ?? null },
    });
    await tx.flush();
    return toConversationDto(
      await tx.findOneOrFail(AcademyConversationSchema, { id: conversation.id }, { populate: ['session'] }),
    );
  });
}

const ZConversationCursor = z.uuid();

/** The learner's academy conversations, newest first (ids are UUIDv7: the id is the keyset). */
export async function listAcademyConversations(
  em: EntityManager,
  actor: Actor,
  input: TListAcademyConversationsInput,
  limits: ContentLimits,
): Promise<TAcademyConversationPage> {
  const limit = pageSize(input?.limit, limits);
  let before: string | undefined;
  if (input?.cursor !== undefined) {
    const parsed = ZConversationCursor.safeParse(Buffer.from(input.cursor, 'base64url').toString('utf8'));
    if (!parsed.success) throw new DomainError('BAD_REQUEST', 'not a cursor of this listing', { field: 'cursor' });
    before = parsed.data;
  }
  const rows = await em.find(
    AcademyConversationSchema,
    { user: learnerOf(actor), ...(before === undefined ? {} : { id: { $lt: before } }) },
    { populate: ['session'], orderBy: { id: 'desc' }, limit: limit + 1 },
  );
  const page = rows.slice(0, limit);
  return {
    items: page.map(toConversationDto),
    nextCursor: rows.length > limit ? Buffer.from(page.at(-1)!.id).toString('base64url') : null,
  };
}

/**
 * Completes the conversation's run (if it is still running) and pays the rule's XP, once: a
 * second call, or a call after sessions.complete, pays nothing more (the ledger row is keyed by the
 * conversation). The learner and the agent must both have spoken; a session that failed or was
 * killed cannot be completed (CONFLICT, from the run lifecycle).
 */
export async function completeAcademyConversation(
  em: EntityManager,
  actor: Actor,
  id: string,
  limits: ContentLimits,
): Promise<TCompleteAcademyConversationOutput> {
  const userId = learnerOf(actor);
  return em.transactional(async (tx) => {
    const conversation = await tx.findOne(
      AcademyConversationSchema,
      { id, user: userId },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    );
    if (conversation === null) throw notFound('academy conversation');
    const sessionId = conversation.session.id;
    const [spoken] = await query<{ learner: boolean; agent: boolean }>(
      tx,
      `select bool_or(role = 'user') as learner, bool_or(role = 'assistant') as agent
         from chat_messages where session_id = $1 and deleted_at is null`,
      [sessionId],
    );
    if (!spoken?.learner || !spoken.agent) {
      throw new DomainError(
        'PRECONDITION_FAILED',
        'a conversation completes once the learner and the agent have both spoken',
      );
    }
    await tx.refresh(conversation.session);
    if (conversation.session.status !== 'completed') await completeSession(tx, actor, { id: sessionId }, limits);
    let xpAwarded = 0;
    if (!conversation.completedAt) {
      conversation.completedAt = new Date();
      const underCap = (await conversationsPaidToday(tx, userId)) < CONVERSATIONS_PAID_PER_DAY;
      const { inserted } = !underCap
        ? { inserted: false }
        : await insertLedgerRow(
            tx,
            actor,
            {
              userId,
              amount: CONVERSATION_COMPLETED_XP,
              reason: CONVERSATION_COMPLETED_REASON,
              sourceRef: `academy-conversation:${id}`,
              metadata: {
                conversationId: id,
                persona: conversation.persona ?? null,
                missionId: conversation.mission?.id ?? null,
              },
            },
            'academy.completeConversation',
          );
      if (inserted) xpAwarded = CONVERSATION_COMPLETED_XP;
      await tx.flush();
    }
    const fresh = await tx.findOneOrFail(AcademyConversationSchema, { id }, { populate: ['session'], refresh: true });
    return { conversation: toConversationDto(fresh), xpAwarded };
  });
}

/**
 * The learner's conversation payouts today, counted under a per-learner transaction lock so two
 * completions racing at the cap cannot both pay.
 */
async function conversationsPaidToday(tx: EntityManager, userId: string): Promise<number> {
  await query(tx, `select pg_advisory_xact_lock(hashtextextended('academy-conversation-cap:' || $1, 0))`, [userId]);
  const [row] = await query<{ paid: number }>(
    tx,
    `select count(*)::int as paid from academy_xp_transactions
      where user_id = $1 and reason = $2 and created_at >= date_trunc('day', now() at time zone 'UTC') at time zone 'UTC'`,
    [userId, CONVERSATION_COMPLETED_REASON],
  );
  return row!.paid;
}
