import type { TMessage, TMessagePart, TMessageRole } from '@threadstore/contract';

/** The SQL literal of the format every timestamp leaves in: ISO 8601 in UTC, to the millisecond. */
export const UTC_ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/**
 * What every statement here selects (or returns) about a message `m`, in the shape `toMessage`
 * maps. `request_hash` is deliberately absent: it never leaves the server. The timestamp is
 * formatted by PostgreSQL, since the ORM's pool hands timestamps over as unparsed strings.
 */
export const MESSAGE_COLUMNS = `m.id, m.session_id, m.seq, m.role, m.content, m.chapter, m.citations, m.tool_calls,
  m.metadata, m.model, m.prompt_tokens, m.completion_tokens, m.cost, m.latency_ms, m.parent_id, m.agent_id,
  m.client_message_id, m.sanitized, m.forked_from_id, to_char(m.created_at at time zone 'UTC', ${UTC_ISO}) as created_at,
  m.parts, m.version, to_char(m.edited_at at time zone 'UTC', ${UTC_ISO}) as edited_at, m.edit_of`;

export interface MessageRow {
  id: string;
  session_id: string;
  /** bigint, which the driver returns as a string. */
  seq: string;
  role: TMessageRole;
  content: string;
  chapter: string | null;
  citations: unknown[] | null;
  tool_calls: unknown[] | null;
  metadata: Record<string, unknown>;
  model: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  cost: string | null;
  latency_ms: number | null;
  parent_id: string | null;
  agent_id: string | null;
  client_message_id: string | null;
  sanitized: boolean;
  forked_from_id: string | null;
  created_at: string;
  /** A `json` column: the driver parses it. */
  parts: TMessagePart[] | null;
  version: number;
  edited_at: string | null;
  edit_of: string | null;
}

export function toMessage(row: MessageRow): TMessage {
  return {
    id: row.id,
    sessionId: row.session_id,
    seq: Number(row.seq),
    role: row.role,
    content: row.content,
    chapter: row.chapter,
    citations: row.citations,
    toolCalls: row.tool_calls,
    metadata: row.metadata,
    model: row.model,
    promptTokens: row.prompt_tokens,
    completionTokens: row.completion_tokens,
    cost: row.cost,
    latencyMs: row.latency_ms,
    parentId: row.parent_id,
    agentId: row.agent_id,
    clientMessageId: row.client_message_id,
    sanitized: row.sanitized,
    forkedFromId: row.forked_from_id,
    createdAt: row.created_at,
    parts: row.parts,
    version: row.version,
    edited: row.version > 1,
    editedAt: row.edited_at,
    editOf: row.edit_of,
  };
}
