import { createHash, randomBytes } from 'node:crypto';
import type {
  ContentLimits,
  TCreateShareInput,
  TCreateShareOutput,
  TListSharesInput,
  TListSharesOutput,
  TShare,
  TSharedMessage,
  TViewShareInput,
  TViewShareOutput,
} from '@threadstore/contract';
import { SessionShareSchema, type EntityManager, type SessionShare } from '@threadstore/db';
import { recordAudit } from '../audit.ts';
import { DomainError, notFound } from '../errors.ts';
import { query } from '../messages/sql.ts';
import { pageSize } from '../paging.ts';
import { ownerFilter, ownerOf, type Actor, type Owner } from '../principal.ts';
import { findOwnedSession } from '../sessions/access.ts';
import { OPEN_SHARE, SHARED_PAGE } from './sql.ts';

/** 32 random bytes: a token nobody guesses, in base64url so it fits a URL as it is. */
const TOKEN_BYTES = 32;

/** What is stored of a token: its SHA-256, hex. A token is random, so no salt or slow hash is needed. */
export function shareTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A read-only link to a session of the actor's; the token is in the answer and nowhere else. */
export async function createShare(
  em: EntityManager,
  actor: Actor,
  input: TCreateShareInput,
): Promise<TCreateShareOutput> {
  const expiresAt = input.expiresAt === undefined ? null : new Date(input.expiresAt);
  if (expiresAt !== null && expiresAt.getTime() <= Date.now()) {
    throw new DomainError('BAD_REQUEST', 'expiresAt must be in the future', { field: 'expiresAt' });
  }
  const token = randomBytes(TOKEN_BYTES).toString('base64url');
  return em.transactional(async (tx) => {
    // Locked, so a snapshot's seq is the last one committed before the link exists.
    const session = await findOwnedSession(tx, ownerOf(actor.principal), input.sessionId, { forUpdate: true });
    const share = tx.create(SessionShareSchema, {
      session,
      tokenHash: shareTokenHash(token),
      mode: input.mode,
      upToSeq: input.mode === 'snapshot' ? session.lastSeq : null,
      expiresAt,
    });
    recordAudit(tx, actor, {
      action: 'shares.create',
      subjectType: 'session',
      subjectId: session.id,
      details: {
        shareId: share.id,
        mode: share.mode,
        upToSeq: share.upToSeq ?? null,
        expiresAt: input.expiresAt ?? null,
      },
    });
    await tx.flush();
    return { share: toShareDto(share, input.sessionId), token };
  });
}

/** Revokes a link of the actor's; revoking a revoked one changes nothing. NOT_FOUND for anyone else's. */
export async function revokeShare(em: EntityManager, actor: Actor, id: string): Promise<TShare> {
  return em.transactional(async (tx) => {
    const share = await findOwnedShare(tx, ownerOf(actor.principal), id);
    if (share.revokedAt == null) {
      share.revokedAt = new Date();
      recordAudit(tx, actor, {
        action: 'shares.revoke',
        subjectType: 'session',
        subjectId: share.session.id,
        details: { shareId: share.id },
      });
      await tx.flush();
    }
    return toShareDto(share, share.session.id);
  });
}

/** The actor's links on live sessions (of one session with sessionId), newest first. */
export async function listShares(
  em: EntityManager,
  owner: Owner,
  input: TListSharesInput,
  limits: ContentLimits,
): Promise<TListSharesOutput> {
  const shares = await em.find(
    SessionShareSchema,
    {
      session: {
        ...ownerFilter(owner),
        deletedAt: null,
        ...(input.sessionId === undefined ? {} : { id: input.sessionId }),
      },
    },
    { orderBy: { createdAt: 'desc', id: 'desc' }, limit: input.limit ?? limits.maxPageSize },
  );
  return { items: shares.map((share) => toShareDto(share, share.session.id)) };
}

/**
 * A page of the conversation a token opens, for anyone holding it (no principal). A token that
 * never existed, was revoked, expired, or whose session was deleted: the same NOT_FOUND.
 */
export async function viewShare(
  em: EntityManager,
  input: TViewShareInput,
  limits: ContentLimits,
): Promise<TViewShareOutput> {
  const limit = pageSize(input.limit, limits);
  const [share] = await query<{
    session_id: string;
    mode: 'snapshot' | 'live';
    up_to_seq: string | null;
    title: string | null;
  }>(em, OPEN_SHARE, [shareTokenHash(input.token)]);
  if (share === undefined) throw notFound('share');
  const rows = await query<{
    seq: string;
    parent_seq: string | null;
    role: TSharedMessage['role'];
    content: string;
    chapter: string | null;
    model: string | null;
    created_at: string;
  }>(em, SHARED_PAGE, [share.session_id, input.afterSeq ?? 0, share.up_to_seq, limit + 1]);
  const page = rows.slice(0, limit).map((row): TSharedMessage => ({
    seq: Number(row.seq),
    parentSeq: row.parent_seq === null ? null : Number(row.parent_seq),
    role: row.role,
    content: row.content,
    chapter: row.chapter,
    model: row.model,
    createdAt: row.created_at,
  }));
  return {
    title: share.title,
    mode: share.mode,
    items: page,
    nextAfterSeq: rows.length > limit ? page.at(-1)!.seq : null,
  };
}

async function findOwnedShare(em: EntityManager, owner: Owner, id: string): Promise<SessionShare> {
  const share = await em.findOne(
    SessionShareSchema,
    { id, session: { ...ownerFilter(owner), deletedAt: null } },
    { populate: ['session'] },
  );
  if (share === null) throw notFound('share');
  return share;
}

function toShareDto(share: SessionShare, sessionId: string): TShare {
  const now = Date.now();
  return {
    id: share.id,
    sessionId,
    mode: share.mode,
    upToSeq: share.upToSeq ?? null,
    expiresAt: share.expiresAt?.toISOString() ?? null,
    revokedAt: share.revokedAt?.toISOString() ?? null,
    active: share.revokedAt == null && (share.expiresAt == null || share.expiresAt.getTime() > now),
    createdAt: share.createdAt.toISOString(),
  };
}
