import type { TSession, TSessionStatus } from '@threadstore/contract';
import type { ChatSession } from '@threadstore/db';

const iso = (date: Date | null | undefined): string | null => date?.toISOString() ?? null;

/**
 * One spelling per amount: PostgreSQL answers numeric(20,10) with all ten decimals ('1.5000000000')
 * while a just-created row holds the default ('0'); clients comparing costs should not see both.
 */
export function canonicalDecimal(amount: string): string {
  return amount.includes('.') ? amount.replace(/\.?0+$/, '') : amount;
}

/** The session as clients see it: no owner ids, timestamps as ISO strings. */
export function toSessionDto(session: ChatSession): TSession {
  return {
    id: session.id,
    owner: session.user ? 'user' : 'anonymous',
    title: session.title ?? null,
    projectId: session.project?.id ?? null,
    agentId: session.agentId ?? null,
    clientKey: session.clientKey ?? null,
    problemStatement: session.problemStatement ?? null,
    context: session.context,
    metadata: session.metadata,
    // The column also allows `deleted`, which nothing writes (see lifecycle.ts); `.output()` would catch it.
    status: session.status as TSessionStatus,
    phase: session.phase ?? null,
    round: session.roundNumber,
    totalCost: canonicalDecimal(session.totalCost),
    synthesis: session.synthesis ?? null,
    finalRecommendation: session.finalRecommendation ?? null,
    error: session.error ?? null,
    messageCount: session.messageCount,
    lastSeq: session.lastSeq,
    version: session.version,
    createdAt: session.createdAt.toISOString(),
    updatedAt: session.updatedAt.toISOString(),
    startedAt: iso(session.startedAt),
    finishedAt: iso(session.finishedAt),
    lastProgressAt: iso(session.lastProgressAt),
    lastActivityAt: session.lastActivityAt.toISOString(),
    lastMessageAt: iso(session.lastMessageAt),
    archivedAt: iso(session.archivedAt),
    deletedAt: iso(session.deletedAt),
    pinnedAt: iso(session.pinnedAt),
    tags: session.tags ?? [],
    forkedFromMessageId: session.forkedFromMessageId ?? null,
  };
}
