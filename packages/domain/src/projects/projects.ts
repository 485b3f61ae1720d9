import type {
  ContentLimits,
  TCreateProjectInput,
  TListProjectsInput,
  TProject,
  TProjectPage,
  TProjectSettings,
  TUpdateProjectInput,
} from '@threadstore/contract';
import { DEFAULT_PROJECT_SETTINGS, ZProjectSettings } from '@threadstore/contract';
import {
  ProjectSchema,
  raw,
  UniqueConstraintViolationException,
  type EntityManager,
  type Project,
} from '@threadstore/db';
import { recordAudit } from '../audit.ts';
import { DomainError } from '../errors.ts';
import { decodeCursor, encodeCursor, pageSize } from '../paging.ts';
import type { Actor, Principal } from '../principal.ts';
import { findOwnedProject, userIdOf } from './access.ts';

/**
 * Stored settings as the current schema reads them. Rows written before settings were versioned
 * hold `{}`, which is version 1 with nothing set.
 */
function settingsOf(stored: Record<string, unknown>): TProjectSettings {
  const parsed = ZProjectSettings.safeParse(Object.keys(stored).length === 0 ? DEFAULT_PROJECT_SETTINGS : stored);
  // Only this module writes settings, always validated: a row that does not parse was edited by hand.
  if (!parsed.success) throw new Error('stored project settings do not match any settings version');
  return parsed.data;
}

export function toProjectDto(project: Project): TProject {
  return {
    id: project.id,
    name: project.name,
    description: project.description ?? null,
    settings: settingsOf(project.settings),
    version: project.version,
    archivedAt: project.archivedAt?.toISOString() ?? null,
    deletedAt: project.deletedAt?.toISOString() ?? null,
    createdAt: project.createdAt.toISOString(),
    updatedAt: project.updatedAt.toISOString(),
  };
}

function nameTaken(name: string): DomainError {
  return new DomainError('CONFLICT', `you already have a project named ${JSON.stringify(name)}`, { field: 'name' });
}

export async function createProject(em: EntityManager, actor: Actor, input: TCreateProjectInput): Promise<TProject> {
  const owner = userIdOf(actor.principal);
  try {
    return await em.transactional(async (tx) => {
      const project = tx.create(ProjectSchema, {
        owner,
        name: input.name,
        description: input.description ?? null,
        settings: input.settings ?? DEFAULT_PROJECT_SETTINGS,
      });
      recordAudit(tx, actor, { action: 'projects.create', subjectType: 'project', subjectId: project.id });
      await tx.flush();
      return toProjectDto(project);
    });
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) throw nameTaken(input.name);
    throw error;
  }
}

export async function getProject(em: EntityManager, principal: Principal, id: string): Promise<TProject> {
  return toProjectDto(await findOwnedProject(em, userIdOf(principal), id));
}

/**
 * Applies `change` to the caller's project in one transaction with its audit row, the row locked
 * first so checks on its version hold until the write. null from `change`: nothing to do, no audit.
 */
async function changeOwnedProject(
  em: EntityManager,
  actor: Actor,
  id: string,
  action: string,
  change: (project: Project) => Record<string, unknown> | null,
): Promise<TProject> {
  const owner = userIdOf(actor.principal);
  return em.transactional(async (tx) => {
    const project = await findOwnedProject(tx, owner, id, { forUpdate: true });
    const details = change(project);
    if (details !== null) recordAudit(tx, actor, { action, subjectType: 'project', subjectId: id, details });
    await tx.flush();
    return toProjectDto(project);
  });
}

/** Name, description and/or settings (replaced whole); with `expectedVersion`, only if unchanged since read. */
export async function updateProject(em: EntityManager, actor: Actor, input: TUpdateProjectInput): Promise<TProject> {
  try {
    return await changeOwnedProject(em, actor, input.id, 'projects.update', (project) => {
      if (input.expectedVersion !== undefined && input.expectedVersion !== project.version) {
        throw new DomainError(
          'CONFLICT',
          `the project is at version ${project.version}, not ${input.expectedVersion}: it changed since you read it; reload and retry`,
          { expectedVersion: input.expectedVersion, currentVersion: project.version },
        );
      }
      const fields: string[] = [];
      if (input.name !== undefined) {
        project.name = input.name;
        fields.push('name');
      }
      if (input.description !== undefined) {
        project.description = input.description;
        fields.push('description');
      }
      if (input.settings !== undefined) {
        project.settings = input.settings;
        fields.push('settings');
      }
      return { fields, fromVersion: project.version };
    });
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException && input.name !== undefined) throw nameTaken(input.name);
    throw error;
  }
}

export async function setProjectArchived(
  em: EntityManager,
  actor: Actor,
  id: string,
  archived: boolean,
): Promise<TProject> {
  return changeOwnedProject(em, actor, id, archived ? 'projects.archive' : 'projects.unarchive', (project) => {
    if ((project.archivedAt !== null && project.archivedAt !== undefined) === archived) return null;
    project.archivedAt = archived ? new Date() : null;
    return {};
  });
}

/**
 * Moves the project to the bin: it disappears from every read at once and its name is free; its
 * sessions, entries and memories stay where they are. The retention worker deletes the row after
 * the soft-delete grace period, which detaches them (their project becomes null).
 */
export async function deleteProject(em: EntityManager, actor: Actor, id: string): Promise<TProject> {
  return changeOwnedProject(em, actor, id, 'projects.delete', (project) => {
    project.deletedAt = new Date();
    return {};
  });
}

/** The caller's projects, newest first, by keyset on (created_at, id). */
export async function listProjects(
  em: EntityManager,
  principal: Principal,
  input: TListProjectsInput,
  limits: ContentLimits,
): Promise<TProjectPage> {
  const owner = userIdOf(principal);
  const size = pageSize(input.limit, limits);
  const binding = JSON.stringify(['projects', owner, input.archived]);
  const query = em
    .createQueryBuilder(ProjectSchema, 'p')
    .select(['p.*', raw(`to_char(p.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_key`)])
    .where({
      owner,
      deletedAt: null,
      ...(input.archived === 'all' ? {} : { archivedAt: input.archived ? { $ne: null } : null }),
    })
    .orderBy({ createdAt: 'desc', id: 'desc' })
    .limit(size + 1);
  if (input.cursor !== undefined) {
    const after = decodeCursor(input.cursor, binding);
    query.andWhere(`(p.created_at, p.id) < (?::timestamptz, ?::uuid)`, [after.key, after.id]);
  }
  const rows = await query.execute<({ cursor_key: string } & Record<string, unknown>)[]>('all', false);
  const page = rows.slice(0, size);
  const last = page.at(-1);
  return {
    items: page.map(({ cursor_key: _, ...row }) => toProjectDto(em.map(ProjectSchema, row))),
    nextCursor:
      rows.length > size && last !== undefined
        ? encodeCursor({ key: last.cursor_key, id: String(last.id) }, binding)
        : null,
  };
}
