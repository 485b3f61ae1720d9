import type { TClaimAnonymousOutput } from '@threadstore/contract';
import { UniqueConstraintViolationException, type EntityManager } from '@threadstore/db';
import { recordAudit } from '../audit.ts';
import type { Actor } from '../principal.ts';

// A session the user creates with a client key while the claim runs can still collide; the
// retry sees it and drops the claimed session's key instead.
const ATTEMPTS = 3;

/**
 * Moves every session of an anonymous visitor (deleted ones too, with their messages) to the
 * user, in one transaction. Where the user already has a session with the same client key, the
 * user's session keeps the key and the claimed one loses it: the claim never fails on a key, and
 * the user's get-or-create by that key keeps landing where it did. Claiming again moves nothing.
 */
export async function claimAnonymousSessions(
  em: EntityManager,
  actor: Actor,
  userId: string,
  anonymousId: string,
): Promise<TClaimAnonymousOutput> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await claimOnce(em, actor, userId, anonymousId);
    } catch (error) {
      if (!(error instanceof UniqueConstraintViolationException) || attempt === ATTEMPTS) throw error;
    }
  }
}

async function claimOnce(
  em: EntityManager,
  actor: Actor,
  userId: string,
  anonymousId: string,
): Promise<TClaimAnonymousOutput> {
  return em.transactional(async (tx) => {
    // FOR UPDATE: a concurrent claim of the same id waits, then finds the rows no longer
    // anonymous and moves nothing. The version bump fails any stale copy of a moved session.
    const moved = await tx.execute<{ key_taken: boolean }[]>(
      `with moving as (
         select s.id,
                exists (select 1 from chat_sessions own where own.user_id = ? and own.client_key = s.client_key)
                  as key_taken
           from chat_sessions s
          where s.anonymous_id = ?
            for update of s
       )
       update chat_sessions s
          set user_id = ?,
              anonymous_id = null,
              client_key = case when moving.key_taken then null else s.client_key end,
              version = s.version + 1
         from moving
        where s.id = moving.id
       returning moving.key_taken`,
      [userId, anonymousId, userId],
    );
    const result = {
      claimedSessions: moved.length,
      clientKeysDropped: moved.filter((row) => row.key_taken).length,
    };
    recordAudit(tx, actor, {
      action: 'auth.claimAnonymous',
      subjectType: 'anonymous',
      subjectId: anonymousId,
      details: result,
    });
    return result;
  });
}
