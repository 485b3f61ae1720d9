import type { Bind } from '../messages/sql.ts';
import type { Principal } from '../principal.ts';

/**
 * Whose rows a principal's own trail holds: a user's (and their API keys'), or an anonymous
 * visitor's. Matched on (actor_type, actor_id), the leading columns of audit_log_actor_index.
 */
export function ownTrail(principal: Principal, bind: Bind): string {
  if (principal.kind === 'anonymous') {
    return `(a.actor_type = 'anonymous' and a.actor_id = ${bind(principal.anonymousId)})`;
  }
  const user = bind(principal.userId);
  return `((a.actor_type = 'user' and a.actor_id = ${user})
        or (a.actor_type = 'api_key' and a.actor_id in (select k.id::text from api_keys k where k.user_id = ${user}::uuid)))`;
}

/** Newest first, by the bigint id (which rises with commit order closely enough for a listing). */
export function auditPage(where: string[], limit: string): string {
  return `
    select a.id::text as id, a.actor_type, a.actor_id, a.action, a.subject_type, a.subject_id, a.details,
           a.request_id, a.occurred_at
      from audit_log a
     where ${where.join(' and ')}
     order by a.id desc
     limit ${limit}`;
}
