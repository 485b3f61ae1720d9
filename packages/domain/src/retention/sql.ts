/**
 * Retention policies are few rows that administrators change by hand; the SQL is plain so the
 * API, the jobs CLI and the retention job's preview (which runs it inside a transaction it rolls
 * back) share the very same statements.
 */

const POLICY_COLUMNS = `id, scope, user_id, project_id, target, keep_for_days, legal_hold, note, created_at, updated_at`;

/**
 * One policy per (scope, user, project, target): the unique index is NULLS NOT DISTINCT, so the
 * global rows conflict too, and setting a policy that exists replaces its rule.
 */
export const UPSERT_POLICY = `
  insert into retention_policies (scope, user_id, project_id, target, keep_for_days, legal_hold, note)
  values ($1, $2, $3, $4, $5, $6, $7)
  on conflict (scope, user_id, project_id, target) do update
     set keep_for_days = excluded.keep_for_days, legal_hold = excluded.legal_hold,
         note = coalesce(excluded.note, retention_policies.note)
  returning ${POLICY_COLUMNS}`;

export const DELETE_POLICY_BY_KEY = `
  delete from retention_policies
   where scope = $1 and user_id is not distinct from $2 and project_id is not distinct from $3 and target = $4
  returning ${POLICY_COLUMNS}`;

export const DELETE_POLICY_BY_ID = `delete from retention_policies where id = $1 returning ${POLICY_COLUMNS}`;

export const POLICY_BY_KEY = `
  select ${POLICY_COLUMNS} from retention_policies
   where scope = $1 and user_id is not distinct from $2 and project_id is not distinct from $3 and target = $4`;

export const LIST_POLICIES = `
  select ${POLICY_COLUMNS} from retention_policies
   where ($1::text is null or scope = $1) and ($2::uuid is null or user_id = $2)
     and ($3::uuid is null or project_id = $3) and ($4::boolean is null or legal_hold = $4)
   order by case scope when 'global' then 0 when 'user' then 1 else 2 end, target, created_at, id
   limit 1000`;

export const SUBJECT_EXISTS = `
  select exists (select 1 from users where id = $1) as user_exists,
         exists (select 1 from projects where id = $2) as project_exists`;

/** Audit rows for changes made outside a request (the jobs CLI names itself as a system actor). */
export const INSERT_AUDIT = `
  insert into audit_log (actor_type, actor_id, action, subject_type, subject_id, details, request_id)
  values ($1, $2, $3, 'retention_policy', $4, $5::jsonb, $6)`;
