import type { TSession, TSessionStatus } from '@threadstore/contract';
import { bindings, ownedBy, type Bind } from '../messages/sql.ts';
import { UTC_ISO } from '../messages/rows.ts';
import type { Owner } from '../principal.ts';
import { canonicalDecimal } from './dto.ts';

/**
 * sessions.list's SQL, written by hand rather than through the ORM's query builder: the listing is
 * the hottest read after history (every page load asks for it), and building two query-builder
 * queries and hydrating entities cost the API about three times a history page's CPU
 * (bench/api/profile.ts). One statement reads both parts of the listing in one round trip, every
 * value bound (so it runs as a named prepared statement, see `query`), and rows map straight to
 * the DTO.
 */

/** A listing's order and filters, as `listSessions` normalized them. */
export interface ListingFilters {
  orderBy: 'lastActivity' | 'created';
  statuses: TSessionStatus[] | null;
  projectId: string | null;
  archived: boolean | 'all';
  deleted: boolean;
  titleContains: string | null;
  tag: string | null;
}

/** Where a page continues: strictly after this (part, sort key, id). */
export interface ListingPosition {
  pinned: boolean;
  /** The sort key as PostgreSQL's microsecond timestamp (ISO 8601, UTC). */
  key: string;
  id: string;
}

const SORT_COLUMNS = { lastActivity: 'last_activity_at', created: 'created_at' } as const;

const timestamp = (column: string) => `to_char(s.${column} at time zone 'UTC', ${UTC_ISO}) as ${column}`;

/** What the listing selects of a session `s`, in the shape `sessionFromRow` maps. */
const SESSION_COLUMNS = [
  's.id',
  's.user_id',
  's.title',
  's.project_id',
  's.agent_id',
  's.client_key',
  's.problem_statement',
  's.context',
  's.metadata',
  's.status',
  's.phase',
  's.round_number',
  's.total_cost::text as total_cost',
  's.synthesis',
  's.final_recommendation',
  's.error',
  // bigint: node-postgres hands it over as a string, which `sessionFromRow` turns into a number.
  's.message_count',
  's.last_seq',
  's.version',
  ...[
    'created_at',
    'updated_at',
    'started_at',
    'finished_at',
    'last_progress_at',
    'last_activity_at',
    'last_message_at',
    'archived_at',
    'deleted_at',
    'pinned_at',
  ].map(timestamp),
  's.tags',
  's.forked_from_message_id',
].join(', ');

export interface SessionRow {
  id: string;
  user_id: string | null;
  title: string | null;
  project_id: string | null;
  agent_id: string | null;
  client_key: string | null;
  problem_statement: string | null;
  context: Record<string, unknown>;
  metadata: Record<string, unknown>;
  status: string;
  phase: string | null;
  round_number: number;
  total_cost: string;
  synthesis: string | null;
  final_recommendation: string | null;
  error: string | null;
  message_count: string | number;
  last_seq: string | number;
  version: number;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
  last_progress_at: string | null;
  last_activity_at: string;
  last_message_at: string | null;
  archived_at: string | null;
  deleted_at: string | null;
  pinned_at: string | null;
  tags: string[] | null;
  forked_from_message_id: string | null;
  /** `p` or `u`, then the sort key to the microsecond: where a cursor after this row continues. */
  cursor_key: string;
}

/**
 * Up to `limit` sessions of `owner` in listing order, pinned ones first, after `after`: the
 * pinned part (unless `after` is already past it) and the unpinned part, each read newest first
 * from its own index (see `listSessions`) and each limited, so neither sorts what the owner has.
 */
export function listingStatement(
  owner: Owner,
  filters: ListingFilters,
  after: ListingPosition | null,
  limit: number,
): { text: string; values: unknown[] } {
  const { values, bind } = bindings();
  const column = SORT_COLUMNS[filters.orderBy];
  const common = commonConditions(owner, filters, bind);
  const cap = bind(limit);
  const part = (pinned: boolean) => {
    const position =
      after === null || after.pinned !== pinned
        ? ''
        : ` and (s.${column}, s.id) < (${bind(after.key)}::timestamptz, ${bind(after.id)}::uuid)`;
    return `(select ${SESSION_COLUMNS},
            '${pinned ? 'p' : 'u'}' || to_char(s.${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_key,
            ${pinned ? 0 : 1} as part, s.${column} as sort_key
       from chat_sessions s
      where ${common} and s.pinned_at is ${pinned ? 'not null' : 'null'}${position}
      order by s.${column} desc, s.id desc
      limit ${cap})`;
  };
  const parts = after !== null && !after.pinned ? [part(false)] : [part(true), part(false)];
  const text = `select * from (${parts.join(' union all ')}) listing
    order by part, sort_key desc, id desc
    limit ${cap}`;
  return { text, values };
}

function commonConditions(owner: Owner, filters: ListingFilters, bind: Bind): string {
  const conditions = [ownedBy('s', owner, bind), `s.deleted_at is ${filters.deleted ? 'not null' : 'null'}`];
  if (filters.archived !== 'all') conditions.push(`s.archived_at is ${filters.archived ? 'not null' : 'null'}`);
  if (filters.statuses !== null) conditions.push(`s.status = any(${bind(filters.statuses)}::text[])`);
  if (filters.projectId !== null) conditions.push(`s.project_id = ${bind(filters.projectId)}::uuid`);
  // `%` and `_` in a search are literal characters, not wildcards (`\` is PostgreSQL's LIKE escape).
  if (filters.titleContains !== null) {
    conditions.push(`s.title ilike ${bind(`%${filters.titleContains.replace(/[\\%_]/g, '\\$&')}%`)}`);
  }
  if (filters.tag !== null) conditions.push(`s.tags @> array[${bind(filters.tag)}]::text[]`);
  return conditions.join(' and ');
}

/** The session as clients see it (what `toSessionDto` makes of the entity), from a listing row. */
export function sessionFromRow(row: SessionRow): TSession {
  return {
    id: row.id,
    owner: row.user_id !== null ? 'user' : 'anonymous',
    title: row.title,
    projectId: row.project_id,
    agentId: row.agent_id,
    clientKey: row.client_key,
    problemStatement: row.problem_statement,
    context: row.context,
    metadata: row.metadata,
    status: row.status as TSessionStatus,
    phase: row.phase,
    round: row.round_number,
    totalCost: canonicalDecimal(row.total_cost),
    synthesis: row.synthesis,
    finalRecommendation: row.final_recommendation,
    error: row.error,
    messageCount: Number(row.message_count),
    lastSeq: Number(row.last_seq),
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    lastProgressAt: row.last_progress_at,
    lastActivityAt: row.last_activity_at,
    lastMessageAt: row.last_message_at,
    archivedAt: row.archived_at,
    deletedAt: row.deleted_at,
    pinnedAt: row.pinned_at,
    tags: row.tags ?? [],
    forkedFromMessageId: row.forked_from_message_id,
  };
}
