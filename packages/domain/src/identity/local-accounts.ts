import type { TAuthUser, TSignInInput, TSignUpInput } from '@threadstore/contract';
import { UniqueConstraintViolationException, UserSchema, uuidv7, type EntityManager, type User } from '@threadstore/db';
import { recordAudit } from '../audit.ts';
import { DomainError } from '../errors.ts';
import type { Actor } from '../principal.ts';
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from './passwords.ts';
import { LOCAL_ISSUER, toAuthUser } from './users.ts';

/** Creates a local account. A username taken in any letter case is a CONFLICT. */
export async function signUpLocalAccount(
  em: EntityManager,
  requestId: string | null,
  input: TSignUpInput,
): Promise<TAuthUser> {
  const id = uuidv7();
  const user = em.create(UserSchema, {
    id,
    issuer: LOCAL_ISSUER,
    subject: id,
    username: input.username,
    email: input.email ?? null,
    displayName: input.displayName ?? null,
    role: 'user',
    passwordHash: await hashPassword(input.password),
    lastSeenAt: new Date(),
  });
  recordAudit(em, actorFor(user, requestId), {
    action: 'auth.signUp',
    subjectType: 'user',
    subjectId: id,
    details: { username: input.username },
  });
  try {
    await em.flush();
  } catch (error) {
    // The users_username_unique index on lower(username) decides, so two sign-ups racing for
    // one name cannot both win; it is the only unique value of a row with a fresh id.
    if (error instanceof UniqueConstraintViolationException) {
      throw new DomainError('CONFLICT', 'this username is taken', { field: 'username' });
    }
    throw error;
  }
  return toAuthUser(user);
}

const WRONG_CREDENTIALS = 'wrong username or password';

/**
 * The local account these credentials prove, else UNAUTHORIZED with one message for an unknown
 * username and a wrong password alike, after the same amount of hashing work.
 */
export async function signInLocalAccount(
  em: EntityManager,
  requestId: string | null,
  input: TSignInInput,
): Promise<TAuthUser> {
  const [row] = await em.execute(
    // lower(username) is what users_username_unique indexes.
    'select * from users where issuer = ? and lower(username) = lower(?) and deleted_at is null',
    [LOCAL_ISSUER, input.username],
  );
  const user = row === undefined ? null : em.map(UserSchema, row);
  const matches = await verifyPassword(input.password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
  if (user === null || !matches) throw new DomainError('UNAUTHORIZED', WRONG_CREDENTIALS);

  user.lastSeenAt = new Date();
  recordAudit(em, actorFor(user, requestId), { action: 'auth.signIn', subjectType: 'user', subjectId: user.id });
  await em.flush();
  return toAuthUser(user);
}

function actorFor(user: User, requestId: string | null): Actor {
  return { principal: { kind: 'user', userId: user.id, role: user.role }, requestId };
}
