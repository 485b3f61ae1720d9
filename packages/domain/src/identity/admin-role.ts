import { AuditLogSchema, LockMode, UserSchema, type EntityManager, type User } from '@threadstore/db';
import { DomainError } from '../errors.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Grants or revokes the admin role from the command line (`pnpm admin grant <user>`), the only
 * way to make the first admin without SQL. `who` is a user id, an e-mail address or a local
 * username; an address or name shared by several users (different issuers) is refused rather
 * than guessed. Audited as the system, with `operator` (the OS user who ran it) in the details.
 * Returns the user and whether anything changed.
 */
export async function setAdminRole(
  em: EntityManager,
  who: string,
  admin: boolean,
  operator: string,
): Promise<{ user: User; changed: boolean }> {
  return em.transactional(async (tx) => {
    const where = UUID.test(who)
      ? { id: who }
      : who.includes('@')
        ? { email: { $ilike: who } }
        : { username: { $ilike: who } };
    // FOR UPDATE: two operators at once still leave exactly one audit row per change.
    const matches = await tx.find(
      UserSchema,
      { ...where, deletedAt: null },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    );
    if (matches.length === 0) throw new DomainError('NOT_FOUND', `no user is "${who}"`);
    if (matches.length > 1) {
      throw new DomainError('CONFLICT', `${matches.length} users are "${who}"; name one by its id`);
    }
    const user = matches[0]!;
    const role = admin ? 'admin' : 'user';
    if (user.role === role) return { user, changed: false };
    const previous = user.role;
    user.role = role;
    tx.create(AuditLogSchema, {
      actorType: 'system',
      actorId: null,
      action: admin ? 'users.grantAdmin' : 'users.revokeAdmin',
      subjectType: 'user',
      subjectId: user.id,
      details: { from: previous, to: role, operator },
      requestId: null,
    });
    await tx.flush();
    return { user, changed: true };
  });
}
