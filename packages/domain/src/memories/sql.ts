import type { TMemory } from '@threadstore/contract';
import type { MemoryKind, TextSearchLanguage } from '@threadstore/db';

/**
 * The memories' SQL. A memory is a lineage of version rows (see MemorySchema); every statement
 * here is scoped by `user_id` first, so another user's memory reads as one that does not exist,
 * and values are bound parameters.
 */

/**
 * Timestamps as PostgreSQL's own microsecond text: a JS Date keeps milliseconds, and a client
 * passing a version's validFrom back as `asOf` must land inside that version, not just before it.
 */
const micros = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export const MEMORY_COLUMNS = `m.id, m.lineage_id, m.version_number, m.kind, m.subject, m.key, m.content, m.importance::float8 as importance,
  m.confidence::float8 as confidence, m.language, m.project_id, m.agent_id, m.source_session_id, m.source_message_id, m.metadata,
  ${micros('m.expires_at')} as expires_at, ${micros('m.valid_from')} as valid_from, ${micros('m.valid_to')} as valid_to,
  m.superseded_by_id, ${micros('m.created_at')} as created_at`;

export interface MemoryRow {
  id: string;
  lineage_id: string;
  version_number: number;
  kind: MemoryKind;
  subject: string;
  key: string | null;
  content: string;
  importance: number;
  confidence: number;
  language: TextSearchLanguage;
  project_id: string | null;
  agent_id: string | null;
  source_session_id: string | null;
  source_message_id: string | null;
  metadata: Record<string, unknown>;
  expires_at: string | null;
  valid_from: string;
  valid_to: string | null;
  superseded_by_id: string | null;
  created_at: string;
}

export function toMemoryDto(row: MemoryRow): TMemory {
  return {
    id: row.lineage_id,
    versionId: row.id,
    version: row.version_number,
    kind: row.kind,
    subject: row.subject,
    key: row.key,
    content: row.content,
    importance: Number(row.importance),
    confidence: Number(row.confidence),
    language: row.language,
    projectId: row.project_id,
    agentId: row.agent_id,
    sourceSessionId: row.source_session_id,
    sourceMessageId: row.source_message_id,
    metadata: row.metadata,
    expiresAt: row.expires_at,
    validFrom: row.valid_from,
    validTo: row.valid_to,
    supersededBy: row.superseded_by_id,
    createdAt: row.created_at,
  };
}

/**
 * When a memory of `kind` written now expires: its creation plus the `keep_for_days` of the
 * governing policy for its target (the user's, else the global one), as the retention worker
 * judges it; null for long-term memories, or when no policy covers the kind. $1 is the kind,
 * $2 the user.
 */
export const EXPIRY_OF_KIND = `
  select (now() + make_interval(days => p.keep_for_days))::text as expires_at
    from retention_policies p
   where p.target = case $1::text when 'short_term' then 'short_term_memories' when 'episodic' then 'episodic_memories' end
     and p.keep_for_days is not null
     and (p.scope = 'global' or (p.scope = 'user' and p.user_id = $2::uuid))
   order by case p.scope when 'user' then 0 else 1 end
   limit 1`;

/** "Row `m` is the version valid at the instant `at` (SQL), or the current one when `at` is null." */
export function validAt(at: string | null): string {
  return at === null ? 'm.valid_to is null' : `m.valid_from <= ${at} and (m.valid_to is null or m.valid_to > ${at})`;
}
