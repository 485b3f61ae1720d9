import { randomUUID } from 'node:crypto';
import { UserSchema, type EntityManager, type UserRole } from '@threadstore/db';
import type { Actor, Principal } from '../principal.ts';

/** A user row and the principal that signs in as it, for tests. */
export async function createTestUser(
  em: EntityManager,
  { role = 'user', name = `user-${randomUUID().slice(0, 8)}` }: { role?: UserRole; name?: string } = {},
): Promise<{ userId: string; principal: Extract<Principal, { kind: 'user' }> }> {
  const user = em.create(UserSchema, {
    issuer: 'https://issuer.test',
    subject: name,
    email: `${name}@example.test`,
    displayName: name,
    role,
  });
  await em.flush();
  return { userId: user.id, principal: { kind: 'user', userId: user.id, role } };
}

/** A fresh anonymous visitor, as a browser that just generated its `X-Session-ID`. */
export function anonymousPrincipal(): Extract<Principal, { kind: 'anonymous' }> {
  return { kind: 'anonymous', anonymousId: randomUUID() };
}

export function actorFor(principal: Principal, requestId: string | null = 'test-request'): Actor {
  return { principal, requestId };
}

export * from './account.ts';
