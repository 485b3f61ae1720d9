import type {
  ContentLimits,
  TCreateKnowledgeInput,
  TDeleteKnowledgeOutput,
  TImportKnowledgeInput,
  TImportKnowledgeOutput,
  TKnowledgeEntry,
  TKnowledgeEntrySummary,
  TKnowledgePage,
  TListKnowledgeInput,
  TUpdateKnowledgeInput,
} from '@threadstore/contract';
import { uuidv7, type EntityManager } from '@threadstore/db';
import { recordAudit } from '../audit.ts';
import { DomainError, notFound } from '../errors.ts';
import { bindings, query } from '../messages/sql.ts';
import { decodeCursor, encodeCursor, pageSize } from '../paging.ts';
import type { Actor, Principal } from '../principal.ts';
import { checkOwnedProject, userIdOf } from '../projects/access.ts';
import { cleanJsonObject } from '../sessions/content.ts';
import { chunkBody } from './chunks.ts';
import { DELETE_CHUNKS, SUMMARY_COLUMNS, writeChunks, type SummaryRow } from './sql.ts';

type NewEntry = Omit<TCreateKnowledgeInput, 'clientKey'> & { clientKey?: string | undefined };

export function toSummary(row: SummaryRow): TKnowledgeEntrySummary {
  return {
    id: row.id,
    projectId: row.project_id,
    title: row.title,
    tags: row.tags,
    language: row.language,
    sourceType: row.source_type,
    sourceUrl: row.source_url,
    clientKey: row.client_key,
    metadata: row.metadata,
    contentLength: Number(row.content_length),
    version: row.version,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

/** Text the database cannot hold (NUL) or would store altered (lone surrogates) is refused, not mangled. */
function checkText(text: string, field: string): void {
  if (text.includes('\0') || !text.isWellFormed()) {
    throw new DomainError('BAD_REQUEST', `${field} must be well-formed text without NUL characters`, { field });
  }
}

/** Inserts one entry with its slices; returns null when `clientKey` is already the caller's (nothing written). */
async function insertEntry(
  tx: EntityManager,
  owner: string,
  input: NewEntry,
  limits: ContentLimits,
): Promise<string | null> {
  checkText(input.title, 'title');
  checkText(input.content, 'content');
  const metadata = cleanJsonObject(input.metadata, 'metadata', limits) ?? {};
  const id = uuidv7();
  const language = input.language ?? 'simple';
  const { values, bind } = bindings();
  const inserted = await query<{ id: string }>(
    tx,
    `insert into knowledge_entries (id, owner_id, project_id, title, content, source_type, source_url, metadata, language, tags, client_key)
     values (${bind(id)}, ${bind(owner)}, ${bind(input.projectId ?? null)}, ${bind(input.title)}, ${bind(input.content)},
             ${bind(input.sourceType ?? (input.sourceUrl === undefined ? 'text' : 'url'))}, ${bind(input.sourceUrl ?? null)},
             ${bind(JSON.stringify(metadata))}::jsonb, ${bind(language)}, ${bind(input.tags ?? [])}::text[], ${bind(input.clientKey ?? null)})
     on conflict (owner_id, client_key) do nothing
     returning id`,
    values,
  );
  if (inserted.length === 0) return null;
  const chunks = bindings();
  await query(
    tx,
    writeChunks(
      chunks.bind,
      { id, ownerId: owner, projectId: input.projectId ?? null, language, title: input.title },
      chunkBody(input.content),
    ),
    chunks.values,
  );
  return id;
}

export async function createKnowledge(
  em: EntityManager,
  actor: Actor,
  input: TCreateKnowledgeInput,
  limits: ContentLimits,
): Promise<TKnowledgeEntry> {
  const owner = userIdOf(actor.principal);
  await checkOwnedProject(em, owner, input.projectId);
  return em.transactional(async (tx) => {
    const id = await insertEntry(tx, owner, input, limits);
    if (id === null) {
      throw new DomainError('CONFLICT', 'you already have an entry with this clientKey', { field: 'clientKey' });
    }
    recordAudit(tx, actor, { action: 'knowledge.create', subjectType: 'knowledge_entry', subjectId: id });
    await tx.flush();
    return (await findEntry(tx, owner, id))!;
  });
}

async function findEntry(em: EntityManager, owner: string, id: string): Promise<TKnowledgeEntry | null> {
  const [row] = await query<SummaryRow & { content: string }>(
    em,
    `select ${SUMMARY_COLUMNS}, e.content from knowledge_entries e where e.id = $1 and e.owner_id = $2 and e.deleted_at is null`,
    [id, owner],
  );
  return row === undefined ? null : { ...toSummary(row), content: row.content };
}

export async function getKnowledge(em: EntityManager, principal: Principal, id: string): Promise<TKnowledgeEntry> {
  const entry = await findEntry(em, userIdOf(principal), id);
  if (entry === null) throw notFound('knowledge entry');
  return entry;
}

/**
 * Many entries at once, all or none (one transaction). Idempotent by clientKey: an entry whose
 * key the caller already uses is returned as stored, not changed, so a retried import adds nothing.
 */
export async function importKnowledge(
  em: EntityManager,
  actor: Actor,
  input: TImportKnowledgeInput,
  limits: ContentLimits,
): Promise<TImportKnowledgeOutput> {
  const owner = userIdOf(actor.principal);
  for (const projectId of new Set(input.entries.map((entry) => entry.projectId))) {
    await checkOwnedProject(em, owner, projectId);
  }
  return em.transactional(async (tx) => {
    const ids: string[] = [];
    let created = 0;
    for (const entry of input.entries) {
      const id = await insertEntry(tx, owner, entry, limits);
      if (id !== null) {
        created += 1;
        ids.push(id);
        continue;
      }
      const [existing] = await query<{ id: string; deleted: boolean }>(
        tx,
        'select id, deleted_at is not null as deleted from knowledge_entries where owner_id = $1 and client_key = $2',
        [owner, entry.clientKey],
      );
      if (existing === undefined || existing.deleted) {
        throw new DomainError('CONFLICT', `the entry with clientKey ${JSON.stringify(entry.clientKey)} is deleted`, {
          field: 'clientKey',
          clientKey: entry.clientKey,
        });
      }
      ids.push(existing.id);
    }
    recordAudit(tx, actor, {
      action: 'knowledge.import',
      subjectType: 'knowledge_entry',
      details: { created, existing: ids.length - created },
    });
    await tx.flush();
    const rows = await query<SummaryRow>(
      tx,
      `select ${SUMMARY_COLUMNS} from unnest($1::uuid[]) with ordinality as i(id, n) join knowledge_entries e on e.id = i.id order by i.n`,
      [ids],
    );
    return { entries: rows.map(toSummary), created, existing: ids.length - created };
  });
}

/**
 * Changes the given fields; the full-text slices are rewritten when the title, body or language
 * change, and follow the entry into another project. With `expectedVersion`, only if unchanged.
 */
export async function updateKnowledge(
  em: EntityManager,
  actor: Actor,
  input: TUpdateKnowledgeInput,
  limits: ContentLimits,
): Promise<TKnowledgeEntry> {
  const owner = userIdOf(actor.principal);
  await checkOwnedProject(em, owner, input.projectId);
  if (input.title !== undefined) checkText(input.title, 'title');
  if (input.content !== undefined) checkText(input.content, 'content');
  const metadata = cleanJsonObject(input.metadata, 'metadata', limits);
  return em.transactional(async (tx) => {
    const [current] = await query<{
      version: number;
      title: string;
      language: 'english' | 'portuguese' | 'simple';
      project_id: string | null;
    }>(
      tx,
      `select version, title, language, project_id from knowledge_entries
        where id = $1 and owner_id = $2 and deleted_at is null for update`,
      [input.id, owner],
    );
    if (current === undefined) throw notFound('knowledge entry');
    if (input.expectedVersion !== undefined && input.expectedVersion !== current.version) {
      throw new DomainError(
        'CONFLICT',
        `the entry is at version ${current.version}, not ${input.expectedVersion}: it changed since you read it; reload and retry`,
        { expectedVersion: input.expectedVersion, currentVersion: current.version },
      );
    }
    const { values, bind } = bindings();
    const sets = ['version = version + 1'];
    const fields: string[] = [];
    const set = (field: string, column: string, value: unknown, cast = '') => {
      if (value === undefined) return;
      sets.push(`${column} = ${bind(value)}${cast}`);
      fields.push(field);
    };
    set('title', 'title', input.title);
    set('content', 'content', input.content);
    set('tags', 'tags', input.tags, '::text[]');
    set('language', 'language', input.language);
    set('sourceUrl', 'source_url', input.sourceUrl);
    set('sourceType', 'source_type', input.sourceType);
    set('projectId', 'project_id', input.projectId);
    set('metadata', 'metadata', metadata === undefined ? undefined : JSON.stringify(metadata), '::jsonb');
    await query(tx, `update knowledge_entries set ${sets.join(', ')} where id = ${bind(input.id)}`, values);

    const language = input.language ?? current.language;
    const projectId = input.projectId === undefined ? current.project_id : input.projectId;
    if (input.title !== undefined || input.content !== undefined || input.language !== undefined) {
      const [{ content }] = (await query<{ content: string }>(
        tx,
        'select content from knowledge_entries where id = $1',
        [input.id],
      )) as [{ content: string }];
      await query(tx, DELETE_CHUNKS, [input.id]);
      const chunks = bindings();
      const entry = { id: input.id, ownerId: owner, projectId, language, title: input.title ?? current.title };
      await query(tx, writeChunks(chunks.bind, entry, chunkBody(content)), chunks.values);
    } else if (input.projectId !== undefined) {
      await query(tx, 'update knowledge_chunks set project_id = $2 where entry_id = $1', [input.id, projectId]);
    }
    recordAudit(tx, actor, {
      action: 'knowledge.update',
      subjectType: 'knowledge_entry',
      subjectId: input.id,
      details: { fields, fromVersion: current.version },
    });
    await tx.flush();
    return (await findEntry(tx, owner, input.id))!;
  });
}

/** Soft delete: gone from every read and search at once (its slices are dropped); the row stays for the bin. */
export async function deleteKnowledge(em: EntityManager, actor: Actor, id: string): Promise<TDeleteKnowledgeOutput> {
  const owner = userIdOf(actor.principal);
  return em.transactional(async (tx) => {
    const [row] = await query<{ deleted_at: Date }>(
      tx,
      `update knowledge_entries set deleted_at = now() where id = $1 and owner_id = $2 and deleted_at is null returning deleted_at`,
      [id, owner],
    );
    if (row === undefined) throw notFound('knowledge entry');
    await query(tx, DELETE_CHUNKS, [id]);
    recordAudit(tx, actor, { action: 'knowledge.delete', subjectType: 'knowledge_entry', subjectId: id });
    await tx.flush();
    return { id, deletedAt: new Date(row.deleted_at).toISOString() };
  });
}

/** Filters shared by listing and search, as SQL over the entry alias `e`. */
export function entryFilters(
  bind: (value: unknown) => string,
  input: Pick<TListKnowledgeInput, 'projectId' | 'tags' | 'createdAfter' | 'createdBefore'>,
): string[] {
  return [
    ...(input.projectId === undefined ? [] : [`e.project_id = ${bind(input.projectId)}`]),
    ...(input.tags === undefined ? [] : [`e.tags @> ${bind(input.tags)}::text[]`]),
    ...(input.createdAfter === undefined ? [] : [`e.created_at >= ${bind(input.createdAfter)}::timestamptz`]),
    ...(input.createdBefore === undefined ? [] : [`e.created_at < ${bind(input.createdBefore)}::timestamptz`]),
  ];
}

/** The caller's entries, newest first, by keyset on (created_at, id). */
export async function listKnowledge(
  em: EntityManager,
  principal: Principal,
  input: TListKnowledgeInput,
  limits: ContentLimits,
): Promise<TKnowledgePage> {
  const owner = userIdOf(principal);
  const size = pageSize(input.limit, limits);
  const { cursor: _, limit: __, ...filters } = input;
  const binding = JSON.stringify(['knowledge', owner, filters]);
  const { values, bind } = bindings();
  const where = [`e.owner_id = ${bind(owner)}`, 'e.deleted_at is null', ...entryFilters(bind, input)];
  if (input.cursor !== undefined) {
    const after = decodeCursor(input.cursor, binding);
    where.push(`(e.created_at, e.id) < (${bind(after.key)}::timestamptz, ${bind(after.id)}::uuid)`);
  }
  const rows = await query<SummaryRow & { cursor_key: string }>(
    em,
    `select ${SUMMARY_COLUMNS}, to_char(e.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_key
       from knowledge_entries e where ${where.join(' and ')}
      order by e.created_at desc, e.id desc limit ${bind(size + 1)}`,
    values,
  );
  const page = rows.slice(0, size);
  const last = page.at(-1);
  return {
    items: page.map(toSummary),
    nextCursor:
      rows.length > size && last !== undefined ? encodeCursor({ key: last.cursor_key, id: last.id }, binding) : null,
  };
}
