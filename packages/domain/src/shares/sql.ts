/**
 * The SQL of share links. Viewing is the one path here that runs for callers without credentials,
 * so its two statements are fixed texts with every value bound: prepared once per connection
 * (`query` outside a transaction names them), they cost no planning per view.
 */

/**
 * The share the token's hash opens, with its session, or no row. Revoked, expired, and shares of
 * a deleted session give no row, exactly like a hash that was never stored, so a caller cannot
 * tell a revoked link from a mistyped one. `now()` is the statement's clock: the moment a link
 * expires it stops opening.
 */
export const OPEN_SHARE = `
  select sh.session_id, sh.mode, sh.up_to_seq, s.title
    from session_shares sh
    join chat_sessions s on s.id = sh.session_id
   where sh.token_hash = $1 and sh.revoked_at is null and (sh.expires_at is null or sh.expires_at > now())
     and s.deleted_at is null`;

/**
 * A page of a shared session: its visible messages after seq $2, up to seq $3 (a snapshot's
 * limit; null for live links), $4 rows, by the (session_id, seq) index. The parent is named by
 * its seq, and only when it is shown too: a deleted parent is hidden like the message itself.
 * Nothing that names anyone or anything else leaves: no ids, metadata, agent or provenance.
 */
export const SHARED_PAGE = `
  select m.seq, p.seq as parent_seq, m.role, m.content, m.chapter, m.model,
         to_char(m.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at
    from chat_messages m
    left join chat_messages p
      on p.id = m.parent_id and p.session_id = m.session_id and p.deleted_at is null
     and ($3::bigint is null or p.seq <= $3::bigint)
   where m.session_id = $1 and m.deleted_at is null and m.seq > $2::bigint
     and ($3::bigint is null or m.seq <= $3::bigint)
   order by m.seq
   limit $4`;
