import { createHash, randomBytes } from 'node:crypto';
import type { TApiKey, TApiKeyPage, TCreateApiKeyInput, TCreatedApiKey } from '@threadstore/contract';
import { ApiKeySchema, type ApiKey, type ApiKeyScope, type EntityManager, type UserRole } from '@threadstore/db';
import { recordAudit } from '../audit.ts';
import { DomainError, notFound } from '../errors.ts';
import type { Actor, Principal } from '../principal.ts';

/** `ts_` and 32 random bytes in base64url: 256 bits nobody guesses. */
const API_KEY_PATTERN = /^ts_[A-Za-z0-9_-]{43}$/;
/** `ts_` plus 8 characters: enough for a person to tell keys apart, far too little to guess the rest. */
const DISPLAYED_PREFIX_LENGTH = 11;
/** last_used_at is "used within the last minute": updating it on every call would write on every call. */
export const LAST_USED_PRECISION_MS = 60_000;
const DAY_MS = 24 * 60 * 60 * 1000;

export function generateApiKey(): string {
  return `ts_${randomBytes(32).toString('base64url')}`;
}

/**
 * SHA-256, not a slow password hash: the key is 256 random bits, so there is no dictionary to
 * try, and a fast hash keeps the lookup on every request cheap.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export async function createApiKey(
  em: EntityManager,
  actor: Actor,
  userId: string,
  input: TCreateApiKeyInput,
): Promise<TCreatedApiKey> {
  // Keys that award XP are for the operator's trusted backends: a learner holding one could award
  // themselves (XP is earned, never claimed).
  if (
    input.scopes.includes('academy.award') &&
    (actor.principal.kind === 'anonymous' || actor.principal.role !== 'admin')
  ) {
    throw new DomainError('FORBIDDEN', "only administrators can create keys with the 'academy.award' scope", {
      scope: 'academy.award',
    });
  }
  const key = generateApiKey();
  const apiKey = em.create(ApiKeySchema, {
    user: userId,
    name: input.name,
    keyPrefix: key.slice(0, DISPLAYED_PREFIX_LENGTH),
    keyHash: hashApiKey(key),
    scopes: input.scopes,
    expiresAt: input.expiresInDays === undefined ? null : new Date(Date.now() + input.expiresInDays * DAY_MS),
  });
  recordAudit(em, actor, {
    action: 'apiKeys.create',
    subjectType: 'api_key',
    subjectId: apiKey.id,
    details: { name: apiKey.name, scopes: apiKey.scopes, expiresAt: apiKey.expiresAt?.toISOString() ?? null },
  });
  await em.flush();
  return { key, apiKey: toApiKeyDto(apiKey) };
}

/** The user's keys, newest first (revoked and expired ones too). Ids are UUIDv7, so the id is the keyset. */
export async function listApiKeys(
  em: EntityManager,
  userId: string,
  { limit, cursor }: { limit: number; cursor?: string },
): Promise<TApiKeyPage> {
  if (cursor !== undefined && !/^[0-9a-f-]{36}$/.test(cursor)) {
    throw new DomainError('BAD_REQUEST', 'cursor is not one this listing gave');
  }
  const rows = await em.find(
    ApiKeySchema,
    { user: userId, ...(cursor === undefined ? {} : { id: { $lt: cursor } }) },
    { orderBy: { id: 'desc' }, limit: limit + 1 },
  );
  const page = rows.slice(0, limit);
  return { items: page.map(toApiKeyDto), nextCursor: rows.length > limit ? page.at(-1)!.id : null };
}

/** Revokes one of the user's keys; revoking it again changes nothing. Another user's key is NOT_FOUND. */
export async function revokeApiKey(em: EntityManager, actor: Actor, userId: string, id: string): Promise<TApiKey> {
  return em.transactional(async (tx) => {
    // Conditional, so two revocations at once keep the first one's time.
    const revoked = await tx.nativeUpdate(
      ApiKeySchema,
      { id, user: userId, revokedAt: null },
      { revokedAt: new Date() },
    );
    const apiKey = await tx.findOne(ApiKeySchema, { id, user: userId });
    if (apiKey === null) throw notFound('API key');
    recordAudit(tx, actor, {
      action: 'apiKeys.revoke',
      subjectType: 'api_key',
      subjectId: id,
      details: { alreadyRevoked: revoked === 0 },
    });
    return toApiKeyDto(apiKey);
  });
}

export type ApiKeyAuthentication =
  { principal: Extract<Principal, { kind: 'apiKey' }>; failure: null } | { principal: null; failure: string };

interface KeyRow {
  id: string;
  user_id: string;
  scopes: ApiKeyScope[];
  revoked: boolean;
  expired: boolean;
  user_deleted: boolean;
  use_unrecorded: boolean;
  role: UserRole;
}

/** The principal an `X-Api-Key` proves, or why it proves nothing. Never throws for a bad key. */
export async function authenticateApiKey(em: EntityManager, presented: string): Promise<ApiKeyAuthentication> {
  if (!API_KEY_PATTERN.test(presented)) return refuse('malformed API key: expected ts_ followed by 43 characters');
  // Judged by the database's clock, the one last_used_at and expires_at were written with.
  const [key] = await em.execute<KeyRow[]>(
    `select k.id, k.user_id, k.scopes, u.role,
            k.revoked_at is not null as revoked,
            coalesce(k.expires_at <= now(), false) as expired,
            u.deleted_at is not null as user_deleted,
            coalesce(k.last_used_at < now() - ? * interval '1 millisecond', true) as use_unrecorded
       from api_keys k join users u on u.id = k.user_id
      where k.key_hash = ?`,
    [LAST_USED_PRECISION_MS, hashApiKey(presented)],
  );
  if (key === undefined) return refuse('unknown API key');
  if (key.revoked) return refuse('this API key has been revoked');
  if (key.expired) return refuse('this API key has expired');
  if (key.user_deleted) return refuse('the account this API key belongs to has been deleted');
  if (key.use_unrecorded) {
    // Conditional again: concurrent requests with one key write once. The commit does not wait
    // for the WAL flush: a last_used_at lost to a crash is harmless, and waiting for the flush
    // (tens of ms on a busy disk) put it in the latency of a fifth of the calls of many
    // occasional keys (memories.context p95 8× its bare baseline, bench/results/knowledge-2026-12-07b.md).
    // (Only in a transaction of its own: `set local` in a caller's would cover the caller's writes.)
    const record = async (tx: EntityManager, relaxed: boolean) => {
      if (relaxed) await tx.execute(`set local synchronous_commit = off`, [], 'run');
      await tx.execute(
        `update api_keys set last_used_at = now()
          where id = ? and (last_used_at is null or last_used_at < now() - ? * interval '1 millisecond')`,
        [key.id, LAST_USED_PRECISION_MS],
        'run',
      );
    };
    if (em.isInTransaction()) await record(em, false);
    else await em.transactional((tx) => record(tx, true));
  }
  return {
    principal: { kind: 'apiKey', userId: key.user_id, role: key.role, apiKeyId: key.id, scopes: key.scopes },
    failure: null,
  };
}

function refuse(failure: string): ApiKeyAuthentication {
  return { principal: null, failure };
}

function toApiKeyDto(apiKey: ApiKey): TApiKey {
  return {
    id: apiKey.id,
    name: apiKey.name,
    keyPrefix: apiKey.keyPrefix,
    scopes: [...apiKey.scopes],
    createdAt: apiKey.createdAt.toISOString(),
    lastUsedAt: apiKey.lastUsedAt?.toISOString() ?? null,
    expiresAt: apiKey.expiresAt?.toISOString() ?? null,
    revokedAt: apiKey.revokedAt?.toISOString() ?? null,
  };
}
