import type {
  ContentLimits,
  TCreateSessionInput,
  TGetOrCreateSessionInput,
  TGetOrCreateSessionOutput,
  TSession,
} from '@threadstore/contract';
import {
  ChatSessionSchema,
  ProjectSchema,
  UniqueConstraintViolationException,
  type ChatSession,
  type EntityManager,
} from '@threadstore/db';
import { recordAudit } from '../audit.ts';
import { DomainError, notFound } from '../errors.ts';
import { ownerFilter, ownerOf, type Actor, type Owner, type Principal } from '../principal.ts';
import { toSessionDto } from './dto.ts';
import { cleanJsonObject, cleanText } from './content.ts';

/** A new session owned by the caller. A clientKey the caller already uses is a CONFLICT. */
export async function createSession(
  em: EntityManager,
  actor: Actor,
  input: TCreateSessionInput,
  limits: ContentLimits,
): Promise<TSession> {
  const clean = await prepareNewSession(em, actor.principal, input, limits);
  try {
    return toSessionDto(await insertSession(em, actor, clean, 'sessions.create'));
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) {
      throw new DomainError(
        'CONFLICT',
        'you already have a session with this clientKey; sessions.getOrCreate returns it',
        { field: 'clientKey' },
      );
    }
    throw error;
  }
}

/**
 * The caller's session with `clientKey`, created from the input if there is none. Safe to call
 * any number of times, concurrently too: the unique (owner, client_key) constraint lets exactly
 * one insert win, and the others return the winner's session. Finding the session changes
 * nothing and so writes no audit row; creating it writes one.
 */
export async function getOrCreateSession(
  em: EntityManager,
  actor: Actor,
  input: TGetOrCreateSessionInput,
  limits: ContentLimits,
): Promise<TGetOrCreateSessionOutput> {
  // Checked even when the session exists, so the answer to a bad input never depends on history.
  const clean = await prepareNewSession(em, actor.principal, input, limits);
  const owner = ownerOf(actor.principal);
  const existing = await findByClientKey(em, owner, input.clientKey);
  if (existing !== null) return { session: existing, created: false };
  try {
    return { session: toSessionDto(await insertSession(em, actor, clean, 'sessions.getOrCreate')), created: true };
  } catch (error) {
    if (!(error instanceof UniqueConstraintViolationException)) throw error;
  }
  // A concurrent call inserted it first. Our insert waited for that transaction to commit before
  // failing, so the winner's row is visible now.
  const winner = await findByClientKey(em, owner, input.clientKey);
  if (winner === null) throw new DomainError('CONFLICT', 'the session was removed while it was being created; retry');
  return { session: winner, created: false };
}

async function findByClientKey(em: EntityManager, owner: Owner, clientKey: string): Promise<TSession | null> {
  const session = await em.findOne(ChatSessionSchema, { ...ownerFilter(owner), clientKey });
  if (session === null) return null;
  // The key stays taken while the session is in the bin; a new one would break the unique key.
  if (session.deletedAt) {
    throw new DomainError(
      'CONFLICT',
      'your session with this clientKey is deleted; restore it (sessions.restore) or purge it (sessions.purge) first',
      { field: 'clientKey', sessionId: session.id },
    );
  }
  return toSessionDto(session);
}

/** The input within limits and sanitized, its project the caller's own (else NOT_FOUND). */
async function prepareNewSession(
  em: EntityManager,
  principal: Principal,
  input: TCreateSessionInput,
  limits: ContentLimits,
): Promise<TCreateSessionInput> {
  const clean = {
    ...input,
    title: cleanText(input.title, 'title', limits),
    problemStatement: cleanText(input.problemStatement, 'problemStatement', limits),
    context: cleanJsonObject(input.context, 'context', limits),
    metadata: cleanJsonObject(input.metadata, 'metadata', limits),
  };
  if (input.projectId === undefined) return clean;
  // Anonymous visitors have no projects, so any project id is someone else's to them.
  const project =
    principal.kind === 'anonymous'
      ? null
      : await em.findOne(ProjectSchema, { id: input.projectId, owner: principal.userId, deletedAt: null });
  if (project === null) throw notFound('project');
  return clean;
}

async function insertSession(
  em: EntityManager,
  actor: Actor,
  input: TCreateSessionInput,
  action: 'sessions.create' | 'sessions.getOrCreate',
): Promise<ChatSession> {
  return em.transactional(async (tx) => {
    const session = tx.create(ChatSessionSchema, {
      ...ownerFilter(ownerOf(actor.principal)),
      project: input.projectId ?? null,
      clientKey: input.clientKey ?? null,
      title: input.title ?? null,
      agentId: input.agentId ?? null,
      problemStatement: input.problemStatement ?? null,
      context: input.context ?? {},
      metadata: input.metadata ?? {},
    });
    recordAudit(tx, actor, {
      action,
      subjectType: 'session',
      subjectId: session.id,
      details: { clientKey: session.clientKey, projectId: input.projectId ?? null },
    });
    return session;
  });
}
