import type {
  ContentLimits,
  TCreateMemoryInput,
  TCreateMemoryOutput,
  TDeleteMemoryOutput,
  TGetMemoryInput,
  TListMemoriesInput,
  TMemory,
  TMemoryHistory,
  TMemoryHits,
  TMemoryPage,
  TSearchMemoriesInput,
  TUpdateMemoryInput,
} from '@threadstore/contract';
import {
  memoryContentHashSql,
  TEXT_SEARCH_LANGUAGES,
  UniqueConstraintViolationException,
  uuidv7,
  type EntityManager,
} from '@threadstore/db';
import { recordAudit } from '../audit.ts';
import { DomainError, notFound } from '../errors.ts';
import { bindings, query } from '../messages/sql.ts';
import { decodeCursor, encodeCursor, pageSize } from '../paging.ts';
import type { Actor, Principal } from '../principal.ts';
import { checkOwnedProject, userIdOf } from '../projects/access.ts';
import { parseSearchQuery, tsQueryText } from '../search/query.ts';
import { cleanJsonObject } from '../sessions/content.ts';
import { matchesByLanguage, tsQueryByLanguage } from '../knowledge/sql.ts';
import { EXPIRY_OF_KIND, MEMORY_COLUMNS, toMemoryDto, validAt, type MemoryRow } from './sql.ts';

const NO_PROJECT = '00000000-0000-0000-0000-000000000000';

async function expiryOf(tx: EntityManager, kind: string, owner: string): Promise<string | null> {
  const [row] = await query<{ expires_at: string }>(tx, EXPIRY_OF_KIND, [kind, owner]);
  return row?.expires_at ?? null;
}

/**
 * The provenance the caller gives, checked: the session must be theirs, the message one of
 * theirs (of that session, when both are given). A message alone names its session.
 */
async function provenanceOf(
  em: EntityManager,
  owner: string,
  input: Pick<TCreateMemoryInput, 'sourceSessionId' | 'sourceMessageId'>,
): Promise<{ sessionId: string | null; messageId: string | null }> {
  const { sourceSessionId, sourceMessageId } = input;
  if (sourceMessageId !== undefined) {
    const [message] = await query<{ session_id: string }>(
      em,
      `select m.session_id from chat_messages m join chat_sessions s on s.id = m.session_id
        where m.id = $1 and s.user_id = $2 and ($3::uuid is null or s.id = $3::uuid)`,
      [sourceMessageId, owner, sourceSessionId ?? null],
    );
    if (message === undefined) throw notFound('message');
    return { sessionId: message.session_id, messageId: sourceMessageId };
  }
  if (sourceSessionId !== undefined) {
    const [session] = await query(em, 'select 1 from chat_sessions where id = $1 and user_id = $2', [
      sourceSessionId,
      owner,
    ]);
    if (session === undefined) throw notFound('session');
  }
  return { sessionId: sourceSessionId ?? null, messageId: null };
}

/**
 * A new memory, or the caller's current memory with the same normalised content (NFKC, case and
 * whitespace folded) for the same subject, key and project, returned as it is (`created: false`).
 * Concurrent creates of one fact yield one memory: the unique index on current content lets one
 * insert win and the others find it.
 */
export async function createMemory(
  em: EntityManager,
  actor: Actor,
  input: TCreateMemoryInput,
  limits: ContentLimits,
): Promise<TCreateMemoryOutput> {
  const owner = userIdOf(actor.principal);
  await checkOwnedProject(em, owner, input.projectId);
  const provenance = await provenanceOf(em, owner, input);
  const metadata = cleanJsonObject(input.metadata, 'metadata', limits) ?? {};
  return em.transactional(async (tx) => {
    const id = uuidv7();
    const { values, bind } = bindings();
    const [row] = await query<MemoryRow>(
      tx,
      `insert into memories as m (id, lineage_id, user_id, kind, subject, key, content, importance, confidence, language,
                                  project_id, agent_id, source_session_id, source_message_id, metadata, expires_at)
       values (${bind(id)}, ${bind(id)}, ${bind(owner)}, ${bind(input.kind)}, ${bind(input.subject)}, ${bind(input.key ?? null)},
               ${bind(input.content)}, ${bind(input.importance ?? 0.5)}, ${bind(input.confidence ?? 1)}, ${bind(input.language ?? 'simple')},
               ${bind(input.projectId ?? null)}, ${bind(input.agentId ?? null)}, ${bind(provenance.sessionId)},
               ${bind(provenance.messageId)}, ${bind(JSON.stringify(metadata))}::jsonb, ${bind(await expiryOf(tx, input.kind, owner))}::timestamptz)
       on conflict (user_id, (coalesce(project_id, '${NO_PROJECT}'::uuid)), subject, (coalesce(key, '')), content_hash) where valid_to is null do nothing
       returning ${MEMORY_COLUMNS}`,
      values,
    );
    if (row !== undefined) {
      recordAudit(tx, actor, {
        action: 'memories.create',
        subjectType: 'memory',
        subjectId: id,
        details: { kind: input.kind },
      });
      await tx.flush();
      return { memory: toMemoryDto(row), created: true };
    }
    // A current memory holds this content; a concurrent insert that won has committed by now
    // (ours waited for it), so it is visible to this statement.
    const [existing] = await query<MemoryRow>(
      tx,
      `select ${MEMORY_COLUMNS} from memories m
        where m.user_id = $1 and coalesce(m.project_id, '${NO_PROJECT}'::uuid) = coalesce($2::uuid, '${NO_PROJECT}'::uuid)
          and m.subject = $3 and coalesce(m.key, '') = coalesce($5::text, '') and m.valid_to is null
          and m.content_hash = ${memoryContentHashSql('$4::text')}`,
      [owner, input.projectId ?? null, input.subject, input.content, input.key ?? null],
    );
    if (existing === undefined)
      throw new DomainError('CONFLICT', 'the memory changed while it was being created; retry');
    return { memory: toMemoryDto(existing), created: false };
  });
}

/** The current version of the caller's memory `id`, or the one valid at `asOf`; else NOT_FOUND. */
export async function getMemory(em: EntityManager, principal: Principal, input: TGetMemoryInput): Promise<TMemory> {
  const [row] = await query<MemoryRow>(
    em,
    `select ${MEMORY_COLUMNS} from memories m
      where m.user_id = $1 and m.lineage_id = $2 and ${validAt(input.asOf === undefined ? null : '$3::timestamptz')}`,
    [userIdOf(principal), input.id, ...(input.asOf === undefined ? [] : [input.asOf])],
  );
  if (row === undefined) throw notFound('memory');
  return toMemoryDto(row);
}

/**
 * A new version with the given changes; the current one is closed at the same instant
 * (valid_to = the new one's valid_from, superseded_by = the new one). Nothing is overwritten.
 */
export async function updateMemory(
  em: EntityManager,
  actor: Actor,
  input: TUpdateMemoryInput,
  limits: ContentLimits,
): Promise<TMemory> {
  const owner = userIdOf(actor.principal);
  const metadata = cleanJsonObject(input.metadata, 'metadata', limits);
  try {
    return await em.transactional(async (tx) => {
      const [current] = await query<MemoryRow>(
        tx,
        `select ${MEMORY_COLUMNS} from memories m where m.user_id = $1 and m.lineage_id = $2 and m.valid_to is null for update`,
        [owner, input.id],
      );
      if (current === undefined) throw notFound('memory');
      if (input.expectedVersion !== undefined && input.expectedVersion !== current.version_number) {
        throw new DomainError(
          'CONFLICT',
          `the memory is at version ${current.version_number}, not ${input.expectedVersion}: it changed since you read it; reload and retry`,
          { expectedVersion: input.expectedVersion, currentVersion: current.version_number },
        );
      }
      const kind = input.kind ?? current.kind;
      const id = uuidv7();
      // Closed first: the unique index on current content would otherwise see two current versions.
      await query(tx, 'update memories set valid_to = now() where id = $1', [current.id]);
      const { values, bind } = bindings();
      const [row] = await query<MemoryRow>(
        tx,
        `insert into memories as m (id, lineage_id, version_number, user_id, kind, subject, key, content, importance, confidence,
                                    language, project_id, agent_id, source_session_id, source_message_id, metadata, expires_at)
         values (${bind(id)}, ${bind(current.lineage_id)}, ${bind(current.version_number + 1)}, ${bind(owner)}, ${bind(kind)},
                 ${bind(current.subject)}, ${bind(input.key === undefined ? current.key : input.key)}, ${bind(input.content ?? current.content)},
                 ${bind(input.importance ?? current.importance)}, ${bind(input.confidence ?? current.confidence)}, ${bind(current.language)},
                 ${bind(current.project_id)}, ${bind(current.agent_id)}, ${bind(current.source_session_id)}, ${bind(current.source_message_id)},
                 ${bind(JSON.stringify(metadata ?? current.metadata))}::jsonb,
                 ${bind(kind === current.kind ? current.expires_at : await expiryOf(tx, kind, owner))}::timestamptz)
         returning ${MEMORY_COLUMNS}`,
        values,
      );
      await query(tx, 'update memories set superseded_by_id = $2 where id = $1', [current.id, id]);
      const fields = Object.keys(input).filter((key) => key !== 'id' && key !== 'expectedVersion');
      recordAudit(tx, actor, {
        action: 'memories.update',
        subjectType: 'memory',
        subjectId: input.id,
        details: { fields, fromVersion: current.version_number },
      });
      await tx.flush();
      return toMemoryDto(row!);
    });
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) {
      throw new DomainError('CONFLICT', 'another current memory of this subject already says this', {
        field: 'content',
      });
    }
    throw error;
  }
}

/** Closes the current version without a successor: history keeps every version; asOf before now still sees it. */
export async function deleteMemory(em: EntityManager, actor: Actor, id: string): Promise<TDeleteMemoryOutput> {
  const owner = userIdOf(actor.principal);
  return em.transactional(async (tx) => {
    const [row] = await query<{ valid_to: string }>(
      tx,
      `update memories m set valid_to = now() where m.user_id = $1 and m.lineage_id = $2 and m.valid_to is null
       returning to_char(m.valid_to at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as valid_to`,
      [owner, id],
    );
    if (row === undefined) throw notFound('memory');
    recordAudit(tx, actor, { action: 'memories.delete', subjectType: 'memory', subjectId: id });
    await tx.flush();
    return { id, deletedAt: row.valid_to };
  });
}

/** Every version of the caller's memory, oldest first. */
export async function memoryHistory(em: EntityManager, principal: Principal, id: string): Promise<TMemoryHistory> {
  const rows = await query<MemoryRow>(
    em,
    `select ${MEMORY_COLUMNS} from memories m where m.user_id = $1 and m.lineage_id = $2 order by m.version_number`,
    [userIdOf(principal), id],
  );
  if (rows.length === 0) throw notFound('memory');
  return { items: rows.map(toMemoryDto) };
}

/** Filters shared by listing and search, as SQL over the memory alias `m`. */
function memoryFilters(
  bind: (value: unknown) => string,
  input: Pick<TListMemoriesInput, 'kind' | 'projectId' | 'agentId'>,
): string[] {
  return [
    ...(input.kind === undefined ? [] : [`m.kind = ${bind(input.kind)}`]),
    ...(input.projectId === undefined ? [] : [`m.project_id = ${bind(input.projectId)}`]),
    ...(input.agentId === undefined ? [] : [`m.agent_id = ${bind(input.agentId)}`]),
  ];
}

/** The caller's memories as they are now (or were at `asOf`), newest version first, keyset on (valid_from, id). */
export async function listMemories(
  em: EntityManager,
  principal: Principal,
  input: TListMemoriesInput,
  limits: ContentLimits,
): Promise<TMemoryPage> {
  const owner = userIdOf(principal);
  const size = pageSize(input.limit, limits);
  const { cursor: _, limit: __, ...listing } = input;
  const binding = JSON.stringify(['memories', owner, listing]);
  const { values, bind } = bindings();
  const where = [
    `m.user_id = ${bind(owner)}`,
    validAt(input.asOf === undefined ? null : `${bind(input.asOf)}::timestamptz`),
    ...memoryFilters(bind, input),
    ...(input.subject === undefined ? [] : [`m.subject = ${bind(input.subject)}`]),
  ];
  if (input.cursor !== undefined) {
    const after = decodeCursor(input.cursor, binding);
    where.push(`(m.valid_from, m.id) < (${bind(after.key)}::timestamptz, ${bind(after.id)}::uuid)`);
  }
  const rows = await query<MemoryRow & { cursor_key: string }>(
    em,
    `select ${MEMORY_COLUMNS}, to_char(m.valid_from at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_key
       from memories m where ${where.join(' and ')}
      order by m.valid_from desc, m.id desc limit ${bind(size + 1)}`,
    values,
  );
  const page = rows.slice(0, size);
  const last = page.at(-1);
  return {
    items: page.map(toMemoryDto),
    nextCursor:
      rows.length > size && last !== undefined ? encodeCursor({ key: last.cursor_key, id: last.id }, binding) : null,
  };
}

/** The caller's current, unexpired memories matching a web-search query, best first. */
export async function searchMemories(
  em: EntityManager,
  principal: Principal,
  input: TSearchMemoriesInput,
  limits: ContentLimits,
): Promise<TMemoryHits> {
  const owner = userIdOf(principal);
  const size = pageSize(input.limit, limits);
  const queryText = tsQueryText(parseSearchQuery(input.query, { prefix: input.prefix }));
  const { values, bind } = bindings();
  const rows = await query<MemoryRow & { rank: number }>(
    em,
    `select ${MEMORY_COLUMNS}, ts_rank(m.search_vector, ${tsQueryByLanguage('m.language', bind, queryText)}) as rank
       from memories m
      where m.user_id = ${bind(owner)} and m.valid_to is null and (m.expires_at is null or m.expires_at > now())
        and ${matchesByLanguage('m.language', 'm.search_vector', bind, queryText, TEXT_SEARCH_LANGUAGES)}
        ${memoryFilters(bind, input)
          .map((filter) => `and ${filter}`)
          .join(' ')}
      order by rank desc, m.valid_from desc, m.id desc
      limit ${bind(size)}`,
    values,
  );
  return { items: rows.map((row) => ({ memory: toMemoryDto(row), rank: Number(row.rank) })) };
}
