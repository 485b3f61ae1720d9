/**
 * The SQL of export, import and erasure, in one place. Table and column names come from the
 * catalog (never from input) and are quoted with `ident`; every value travels as a bound
 * parameter. The three share one idea: what a user owns is found in the catalog, not in a list
 * kept by hand, so a table or column another feature adds later is exported, imported and erased
 * without anyone remembering to touch this code.
 */

/** A catalog name as an SQL identifier. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Every single-column foreign key of the public schema, with its delete rule (`c` cascade,
 * `n` set null…). Ownership follows the cascading ones: a row deleted with its user is the user's.
 */
export const FOREIGN_KEYS = `
  select c.conrelid::regclass::text as child, a.attname as column,
         c.confrelid::regclass::text as parent, fa.attname as parent_column, c.confdeltype as on_delete
    from pg_constraint c
    join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
    join pg_attribute fa on fa.attrelid = c.confrelid and fa.attnum = c.confkey[1]
   where c.contype = 'f' and cardinality(c.conkey) = 1 and c.connamespace = 'public'::regnamespace`;

/**
 * The columns of the public schema's tables: which the database assigns itself and an export
 * therefore never carries (generated columns, serial and identity keys, transaction ids, whose
 * values mean nothing on another instance or later on this one),
 * which are NOT NULL without a default (an import must supply them), and the primary key.
 */
export const COLUMNS = `
  select cl.relname as table, a.attname as column, format_type(a.atttypid, a.atttypmod) as type,
         a.attgenerated <> '' or a.attidentity <> '' or a.atttypid = 'xid8'::regtype
           or coalesce(pg_get_expr(d.adbin, d.adrelid) like 'nextval(%', false) as generated,
         a.attnotnull and not a.atthasdef as required,
         coalesce(a.attnum = any(i.indkey), false) as primary_key
    from pg_class cl
    join pg_attribute a on a.attrelid = cl.oid and a.attnum > 0 and not a.attisdropped
    left join pg_attrdef d on d.adrelid = cl.oid and d.adnum = a.attnum
    left join pg_index i on i.indrelid = cl.oid and i.indisprimary
   where cl.relnamespace = 'public'::regnamespace and cl.relkind in ('r', 'p')
   order by cl.relname, a.attnum`;

/** The governing legal holds of a user: on the user, or on one of the user's projects. */
export const LEGAL_HOLDS_OF_USER = `
  select count(*)::int as holds from retention_policies h
   where h.legal_hold
     and ((h.scope = 'user' and h.user_id = $1)
       or (h.scope = 'project' and h.project_id in (select id from projects where owner_id = $1)))`;

/** The anonymous ids the user claimed: each claim left an audit row naming it. */
export const CLAIMED_ANONYMOUS_IDS = `
  select distinct subject_id as id from audit_log
   where actor_type = 'user' and actor_id = $1 and action = 'auth.claimAnonymous' and subject_type = 'anonymous'`;

/**
 * Starts (or joins) the user's erasure. ON CONFLICT on the partial unique index makes a second
 * attempt pick up the running one, adding whatever ids it learned since.
 */
export const START_ERASURE = `
  insert into account_erasures as e (user_id, anonymous_ids, api_key_ids)
  values ($1, $2::text[], $3::text[])
  on conflict (user_id) where status = 'running' do update
     set anonymous_ids = array(select distinct unnest(e.anonymous_ids || excluded.anonymous_ids)),
         api_key_ids = array(select distinct unnest(e.api_key_ids || excluded.api_key_ids)),
         heartbeat_at = now()
  returning id`;

/**
 * From here on the account is gone for every caller: a deleted user's token is refused, and a
 * revoked key no longer authenticates, so nothing new is written while the erasure runs.
 */
export const HIDE_USER = `update users set deleted_at = coalesce(deleted_at, now()) where id = $1`;
export const REVOKE_KEYS = `update api_keys set revoked_at = now() where user_id = $1 and revoked_at is null`;

export const RUNNING_ERASURE = `
  select e.id, e.user_id, e.anonymous_ids, e.api_key_ids, u.email, u.username
    from account_erasures e left join users u on u.id = e.user_id
   where e.id = $1 and e.status = 'running'`;

/** Running erasures whose process stopped beating: killed, or crashed. */
export const STALE_ERASURES = `
  select id from account_erasures
   where status = 'running' and heartbeat_at < now() - make_interval(secs => $1)
   order by heartbeat_at limit 100`;

/**
 * Every batch waits 2 s at most for a row lock and runs 30 s at most, so an erasure never sits
 * in a queue of lock waiters in front of live traffic; a batch that cannot get its locks is
 * retried after a pause.
 */
export const BATCH_LIMITS = `select set_config('lock_timeout', '2s', true), set_config('statement_timeout', '30s', true)`;

/**
 * Deletes up to $n rows `where` selects (by ctid: no key needed) and counts them. `dependents`
 * (tables keyed by the deleted rows' `id` without a foreign key, such as the message search index)
 * lose their rows for them in the same statement: one pass over the batch, where deleting them
 * first would search the owner's remaining rows again for every batch.
 */
export function deleteSome(
  table: string,
  where: string,
  limitParameter: string,
  dependents: { table: string; column: string }[] = [],
): string {
  const also = dependents.map(
    (dependent, i) =>
      `, dependent${i} as (delete from ${ident(dependent.table)} where ${ident(dependent.column)} in (select id from gone))`,
  );
  return `
    with gone as (
      delete from ${ident(table)} where ctid = any(array(select ctid from ${ident(table)} where ${where} limit ${limitParameter}))
      returning ${dependents.length === 0 ? '1' : 'id'}
    )${also.join('')}
    select count(*)::int as rows from gone`;
}

/** The receipt's running tally; committed with the batch it counts. */
export const TALLY = `
  update account_erasures
     set counts = jsonb_set(counts, array[$2::text], to_jsonb(coalesce((counts ->> $2)::bigint, 0) + $3)),
         batches = batches + 1, heartbeat_at = now()
   where id = $1`;

/**
 * The audit trail of the user, of their API keys and of the anonymous ids they claimed: theirs,
 * so it goes. ($1 user id, $2 anonymous ids, $3 key ids.)
 */
export const OWN_AUDIT_ROWS = `(actor_type = 'user' and actor_id = $1::text)
  or (actor_type = 'anonymous' and actor_id = any($2::text[]))
  or (actor_type = 'api_key' and actor_id = any($3::text[]))`;

/**
 * Other people's audit rows about the user (an admin's change to their policy, say) stay as a
 * record that something happened, but lose what names the user: subject id and details. The
 * details are searched as text for the id, the anonymous ids, the email and the username ($4,
 * LIKE patterns), which reads audit_log once per erasure; one statement, row locks only.
 */
export const ANONYMIZE_AUDIT_ROWS = `
  with touched as (
    update audit_log set subject_id = null, details = '{"erased": true}'::jsonb
     where ((subject_type = 'user' and subject_id = $1::text)
         or (subject_type = 'anonymous' and subject_id = any($2::text[]))
         or (subject_type = 'api_key' and subject_id = any($3::text[]))
         or details::text like any($4::text[]))
       and not (details = '{"erased": true}'::jsonb and subject_id is null)
    returning 1
  )
  select count(*)::int as rows from touched`;

/**
 * The last step, in one transaction: the user row goes, and the erasure becomes a receipt
 * without personal data. An audit row says an account was erased, naming only the receipt.
 */
export const DELETE_USER = `with gone as (delete from users where id = $1 returning 1) select count(*)::int as rows from gone`;
export const FINISH_ERASURE = `
  update account_erasures
     set status = 'completed', user_id = null, anonymous_ids = '{}', api_key_ids = '{}',
         finished_at = now(), heartbeat_at = now(), batches = batches + 1,
         counts = jsonb_set(counts, '{users}', to_jsonb(coalesce((counts ->> 'users')::bigint, 0) + $2))
   where id = $1
  returning id, status, counts, batches, started_at, finished_at`;
export const AUDIT_ERASURE = `
  insert into audit_log (actor_type, actor_id, action, subject_type, subject_id, details, request_id)
  values ('system', null, 'account.erase', 'account_erasure', $1, $2::jsonb, $3)`;

export const ERASURE_RECEIPT = `
  select id, status, counts, batches, started_at, finished_at from account_erasures where id = $1`;

/** Exports read one snapshot of everything, so the file is a consistent backup. */
export const BEGIN_EXPORT = `begin isolation level repeatable read read only`;

/**
 * One table's rows as JSON text, without the columns that are never exported ($3). A cursor, so
 * an account of any size streams in constant memory; ordered by primary key, so two exports of
 * the same data are the same bytes.
 */
export function declareExportCursor(table: string, where: string, orderBy: string[]): string {
  return `declare account_export no scroll cursor for
    select (to_jsonb(t) - $3::text[])::text as row from ${ident(table)} t
     where ${where}
     order by ${orderBy.map((column) => `t.${ident(column)}`).join(', ')}`;
}
export const FETCH_EXPORT = `fetch forward 2000 from account_export`;
export const CLOSE_EXPORT = `close account_export`;

/** Whether the account already holds rows in `table` (an import goes into an empty account only). */
export function anyOwned(table: string, where: string): string {
  return `select exists (select 1 from ${ident(table)} t where ${where}) as found`;
}

/**
 * Inserts a batch of exported rows ($1, a JSON array) as they were: jsonb_populate_recordset
 * turns each object into the table's row type, so every column gets its own type's parsing.
 */
export function insertRows(table: string, columns: string[], unusable: string[] = []): string {
  const list = [...columns, ...unusable].map(ident).join(', ');
  // A secret the export never carries (an API key's hash) gets a value no key hashes to: the
  // row comes back, and nothing can ever authenticate with it.
  const values = [...columns.map(ident), ...unusable.map(() => `'unusable:' || gen_random_uuid()`)].join(', ');
  return `insert into ${ident(table)} (${list}) select ${values} from jsonb_populate_recordset(null::${ident(table)}, $1::jsonb)`;
}

/** The user's own audit trail as an export reads it ($1 user id, $2 claimed anonymous ids). */
export const EXPORTED_AUDIT_ROWS = `((t.actor_type = 'user' and t.actor_id = $1::text)
  or (t.actor_type = 'anonymous' and t.actor_id = any($2::uuid[]::text[]))
  or (t.actor_type = 'api_key' and t.actor_id in (select k.id::text from api_keys k where k.user_id::text = $1::text)))`;
