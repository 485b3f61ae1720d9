import type { TAuthUser, TWhoami } from '@threadstore/contract';
import { UserSchema, uuidv7, type EntityManager, type User, type UserRole } from '@threadstore/db';
import { notFound } from '../errors.ts';
import type { Principal } from '../principal.ts';

/**
 * The issuer of local accounts (auth.signUp / auth.signIn): their user rows carry it, and so
 * does the `iss` of the tokens the server signs for them. Their subject is the user's id.
 */
export const LOCAL_ISSUER = 'threadstore-local';

/** Who a verified bearer token says the caller is. */
export interface TokenIdentity {
  issuer: string;
  subject: string;
  /** From the token's claims; null when it has none, which keeps what the row already holds. */
  email: string | null;
  displayName: string | null;
}

/** The user row behind a token, as the authenticator needs it on every request. */
export interface TokenUser {
  userId: string;
  role: UserRole;
  email: string | null;
  displayName: string | null;
  lastSeenAt: Date | null;
  deleted: boolean;
}

/** lastSeenAt is "last seen within this much": refreshing it on every request would write on every request. */
export const LAST_SEEN_PRECISION_MS = 5 * 60_000;

interface UserRow {
  id: string;
  role: UserRole;
  email: string | null;
  display_name: string | null;
  last_seen_ms: number | null;
  deleted: boolean;
}

// Raw rows carry timestamps as the driver's strings; epoch milliseconds need no parsing.
const USER_COLUMNS = `id, role, email, display_name, deleted_at is not null as deleted,
  (extract(epoch from last_seen_at) * 1000)::float8 as last_seen_ms`;

/**
 * The user of a verified token. An external identity gets its row on first sight, and later
 * changes to its email or name follow the claims. A local account's token only finds an existing
 * row (null when there is none): local accounts are created by signing up, never by a token.
 * Writes only when something changed or lastSeenAt is older than LAST_SEEN_PRECISION_MS.
 */
export async function resolveTokenUser(em: EntityManager, identity: TokenIdentity): Promise<TokenUser | null> {
  const { issuer, subject } = identity;
  const touched: UserRow[] =
    issuer === LOCAL_ISSUER
      ? await em.execute(
          `update users set last_seen_at = now()
            where issuer = ? and subject = ?
              and (last_seen_at is null or last_seen_at < now() - ? * interval '1 millisecond')
           returning ${USER_COLUMNS}`,
          [issuer, subject, LAST_SEEN_PRECISION_MS],
        )
      : // One statement, so two first requests at once create one row: the loser of the race
        // waits for the winner's insert and then takes its conflict branch.
        await em.execute(
          `insert into users as u (id, issuer, subject, email, display_name, last_seen_at)
           values (?, ?, ?, ?, ?, now())
           on conflict (issuer, subject) do update
              set email = coalesce(excluded.email, u.email),
                  display_name = coalesce(excluded.display_name, u.display_name),
                  last_seen_at = excluded.last_seen_at
            where u.email is distinct from coalesce(excluded.email, u.email)
               or u.display_name is distinct from coalesce(excluded.display_name, u.display_name)
               or u.last_seen_at is null
               or u.last_seen_at < excluded.last_seen_at - ? * interval '1 millisecond'
           returning ${USER_COLUMNS}`,
          [uuidv7(), issuer, subject, identity.email, identity.displayName, LAST_SEEN_PRECISION_MS],
        );
  // Nothing to write: read the row in a statement of its own, whose snapshot also sees a row
  // that a concurrent first request committed while the statement above ran.
  const [row] =
    touched.length > 0
      ? touched
      : await em.execute<UserRow[]>(`select ${USER_COLUMNS} from users where issuer = ? and subject = ?`, [
          issuer,
          subject,
        ]);
  if (row === undefined) return null;
  return {
    userId: row.id,
    role: row.role,
    email: row.email,
    displayName: row.display_name,
    lastSeenAt: row.last_seen_ms === null ? null : new Date(row.last_seen_ms),
    deleted: row.deleted,
  };
}

export function toAuthUser(user: User): TAuthUser {
  return {
    id: user.id,
    username: user.username ?? null,
    email: user.email ?? null,
    displayName: user.displayName ?? null,
    role: user.role,
  };
}

/** Who the caller is, with their account's details when they have one (auth.whoami). */
export async function describePrincipal(em: EntityManager, principal: Principal): Promise<TWhoami> {
  if (principal.kind === 'anonymous') return { kind: 'anonymous', anonymousId: principal.anonymousId };
  const user = await em.findOne(UserSchema, { id: principal.userId, deletedAt: null });
  if (user === null) throw notFound('user');
  const { id: userId, username, email, displayName } = toAuthUser(user);
  // The role comes from the principal: it is what this request was authorized with.
  const account = { userId, role: principal.role, username, email, displayName };
  return principal.kind === 'user'
    ? { kind: 'user', ...account }
    : { kind: 'apiKey', ...account, apiKeyId: principal.apiKeyId, scopes: [...principal.scopes] };
}
