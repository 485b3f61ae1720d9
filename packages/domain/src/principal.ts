import type { ApiKeyScope, AuditActorType, UserRole } from '@threadstore/db';

/**
 * Who is calling. Every query a domain function runs is scoped by the principal it is given;
 * there is no "system" principal that sees everything (the worker uses its own functions).
 */
export type Principal =
  | { kind: 'user'; userId: string; role: UserRole }
  | { kind: 'apiKey'; userId: string; role: UserRole; apiKeyId: string; scopes: readonly ApiKeyScope[] }
  | { kind: 'anonymous'; anonymousId: string };

/** Who owns a session: exactly one of a user and an anonymous visitor's id. */
export type Owner = { userId: string; anonymousId?: undefined } | { anonymousId: string; userId?: undefined };

export function ownerOf(principal: Principal): Owner {
  return principal.kind === 'anonymous' ? { anonymousId: principal.anonymousId } : { userId: principal.userId };
}

/** The owner columns of `chat_sessions` as an ORM filter: `{ user: id }` or `{ anonymousId: id }`. */
export function ownerFilter(owner: Owner): { user: string } | { anonymousId: string } {
  return owner.userId !== undefined ? { user: owner.userId } : { anonymousId: owner.anonymousId };
}

/** How the audit log names a principal. */
export function auditActorOf(principal: Principal): { actorType: AuditActorType; actorId: string } {
  switch (principal.kind) {
    case 'user':
      return { actorType: 'user', actorId: principal.userId };
    case 'apiKey':
      return { actorType: 'api_key', actorId: principal.apiKeyId };
    case 'anonymous':
      return { actorType: 'anonymous', actorId: principal.anonymousId };
  }
}

/** A principal plus what identifies its request; every mutation takes one, for the audit log. */
export interface Actor {
  principal: Principal;
  requestId: string | null;
}
