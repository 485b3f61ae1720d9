import type {
  ContentLimits,
  TAddFindingInput,
  TCancelInvestigationInput,
  TCompleteInvestigationInput,
  TCreateInvestigationInput,
  TFailInvestigationInput,
  TFinding,
  TFindingPage,
  TInvestigation,
  TInvestigationDetail,
  TInvestigationPage,
  TInvestigationProgressInput,
  TLinkInvestigationInput,
  TListFindingsInput,
  TListInvestigationsInput,
  TUpdateInvestigationInput,
} from '@threadstore/contract';
import {
  InvestigationEntitySchema,
  InvestigationFindingSchema,
  InvestigationSchema,
  InvestigationSessionSchema,
  raw,
  type EntityManager,
  type Investigation,
  type InvestigationFinding,
} from '@threadstore/db';
import * as z from 'zod';
import { recordAudit } from '../audit.ts';
import { DomainError } from '../errors.ts';
import { assertOwnEvidence } from '../graph/relationships.ts';
import { resolveEntities } from '../graph/entities.ts';
import { assertOwnProject, ownerIdOf } from '../graph/scope.ts';
import { decodeKeysetCursor, encodeKeysetCursor } from '../keyset-cursor.ts';
import { pageSize } from '../paging.ts';
import type { Actor, Principal } from '../principal.ts';
import { findOwnedSession } from '../sessions/access.ts';
import { cleanJsonObject, cleanText } from '../sessions/content.ts';
import { findOwnedInvestigation, toInvestigationDto } from './access.ts';
import {
  assertCanApplyToInvestigation,
  INVESTIGATION_OPEN_STATUSES,
  INVESTIGATION_TRANSITIONS,
  type InvestigationAction,
} from './lifecycle.ts';

type Details = Record<string, unknown>;

/**
 * Applies `change` to the caller's investigation in one transaction with its audit row, the row
 * locked before `change` sees it (two racing calls run one after the other).
 */
async function changeOwnedInvestigation(
  em: EntityManager,
  actor: Actor,
  id: string,
  action: string,
  change: (investigation: Investigation, tx: EntityManager) => Details | Promise<Details>,
): Promise<TInvestigation> {
  const ownerId = ownerIdOf(actor.principal);
  return em.transactional(async (tx) => {
    const investigation = await findOwnedInvestigation(tx, ownerId, id, { forUpdate: true });
    const details = await change(investigation, tx);
    recordAudit(tx, actor, { action, subjectType: 'investigation', subjectId: id, details });
    await tx.flush();
    return toInvestigationDto(investigation);
  });
}

/** A new open investigation of the caller's; its project and session must be theirs (else NOT_FOUND). */
export async function createInvestigation(
  em: EntityManager,
  actor: Actor,
  input: TCreateInvestigationInput,
  limits: ContentLimits,
): Promise<TInvestigation> {
  const ownerId = ownerIdOf(actor.principal);
  const query = cleanText(input.query, 'query', limits);
  const title = cleanText(input.title, 'title', limits);
  if (input.projectId !== undefined) await assertOwnProject(em, ownerId, input.projectId);
  if (input.sessionId !== undefined) await findOwnedSession(em, { userId: ownerId }, input.sessionId);
  return em.transactional(async (tx) => {
    const investigation = tx.create(InvestigationSchema, {
      owner: ownerId,
      project: input.projectId ?? null,
      session: input.sessionId ?? null,
      title,
      query,
    });
    if (input.sessionId !== undefined) {
      tx.create(InvestigationSessionSchema, { investigation, session: input.sessionId });
    }
    recordAudit(tx, actor, {
      action: 'investigations.create',
      subjectType: 'investigation',
      subjectId: investigation.id,
      details: { projectId: input.projectId ?? null, sessionId: input.sessionId ?? null },
    });
    await tx.flush();
    return toInvestigationDto(investigation);
  });
}

/** The caller's investigation with its linked sessions and entities (merged entities as their survivors). */
export async function getInvestigation(
  em: EntityManager,
  principal: Principal,
  id: string,
): Promise<TInvestigationDetail> {
  const investigation = await findOwnedInvestigation(em, ownerIdOf(principal), id);
  const [sessions, entities] = await Promise.all([
    em.find(InvestigationSessionSchema, { investigation: id }, { orderBy: { createdAt: 'asc', session: 'asc' } }),
    em.find(InvestigationEntitySchema, { investigation: id }, { orderBy: { createdAt: 'asc', node: 'asc' } }),
  ]);
  return {
    ...toInvestigationDto(investigation),
    sessionIds: sessions.map((link) => link.session.id),
    entityIds: entities.map((link) => link.node.id),
  };
}

const ZListPosition = z.object({
  key: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/),
  id: z.uuid(),
});

// Sort keys travel as PostgreSQL's own microsecond value: a JS Date keeps milliseconds only, and
// a rounded key would repeat or skip rows created within one millisecond.
const MICROS = (column: string) =>
  raw(`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_key`);

/**
 * The caller's investigations, newest first, by keyset on (created_at, id), which the
 * (owner, created_at) index serves; optionally only some statuses or one project.
 */
export async function listInvestigations(
  em: EntityManager,
  principal: Principal,
  input: TListInvestigationsInput,
  limits: ContentLimits,
): Promise<TInvestigationPage> {
  const ownerId = ownerIdOf(principal);
  const size = pageSize(input.limit, limits);
  const statuses = input.status === undefined ? null : [...new Set([input.status].flat())].sort();
  const binding = JSON.stringify([ownerId, statuses, input.projectId ?? null]);
  const queryBuilder = em
    .createQueryBuilder(InvestigationSchema, 'i')
    .select(['i.*', MICROS('i.created_at')])
    .where({
      owner: ownerId,
      deletedAt: null,
      ...(statuses === null ? {} : { status: { $in: statuses } }),
      ...(input.projectId === undefined ? {} : { project: input.projectId }),
    })
    .orderBy({ createdAt: 'desc', id: 'desc' })
    .limit(size + 1);
  if (input.cursor !== undefined) {
    const after = decodeKeysetCursor(input.cursor, binding, ZListPosition);
    queryBuilder.andWhere('(i.created_at, i.id) < (?::timestamptz, ?::uuid)', [after.key, after.id]);
  }
  const rows = await queryBuilder.execute<({ cursor_key: string } & Record<string, unknown>)[]>('all', false);
  const page = rows.slice(0, size);
  const last = page.at(-1);
  return {
    items: page.map(({ cursor_key: _, ...row }) => toInvestigationDto(em.map(InvestigationSchema, row))),
    nextCursor:
      rows.length > size && last !== undefined
        ? encodeKeysetCursor({ key: last.cursor_key, id: String(last.id) }, binding)
        : null,
  };
}

/** Title, query and summary; allowed in any status (a finished investigation may be retitled). */
export async function updateInvestigation(
  em: EntityManager,
  actor: Actor,
  input: TUpdateInvestigationInput,
  limits: ContentLimits,
): Promise<TInvestigation> {
  const title = cleanText(input.title, 'title', limits);
  const query = cleanText(input.query, 'query', limits);
  const summary = cleanJsonObject(input.summary, 'summary', limits);
  return changeOwnedInvestigation(em, actor, input.id, 'investigations.update', (investigation) => {
    if (title !== undefined) investigation.title = title;
    if (query !== undefined) investigation.query = query;
    if (summary !== undefined) investigation.findings = summary;
    return { fields: Object.keys(input).filter((key) => key !== 'id') };
  });
}

/** Moves the investigation through `action` if the lifecycle allows it from its status (checked under the lock). */
async function applyAction(
  em: EntityManager,
  actor: Actor,
  id: string,
  action: InvestigationAction,
  apply: (investigation: Investigation, now: Date) => Details,
): Promise<TInvestigation> {
  return changeOwnedInvestigation(em, actor, id, `investigations.${action}`, (investigation) => {
    const from = investigation.status;
    assertCanApplyToInvestigation(action, from);
    const now = new Date();
    investigation.status = INVESTIGATION_TRANSITIONS[action].to;
    return { from, to: investigation.status, ...apply(investigation, now) };
  });
}

export async function startInvestigation(em: EntityManager, actor: Actor, id: string): Promise<TInvestigation> {
  return applyAction(em, actor, id, 'start', (investigation, now) => {
    investigation.startedAt = now;
    // The stuck-run reaper measures silence from here until the first progress report.
    investigation.lastProgressAt = now;
    return {};
  });
}

/** A sign of life from a running investigation: its phase and its confidence so far. */
export async function reportInvestigationProgress(
  em: EntityManager,
  actor: Actor,
  input: TInvestigationProgressInput,
): Promise<TInvestigation> {
  return applyAction(em, actor, input.id, 'progress', (investigation, now) => {
    investigation.lastProgressAt = now;
    if (input.phase !== undefined) investigation.phase = input.phase;
    if (input.confidence !== undefined) investigation.confidence = input.confidence;
    return { phase: input.phase ?? null, confidence: input.confidence ?? null };
  });
}

export async function completeInvestigation(
  em: EntityManager,
  actor: Actor,
  input: TCompleteInvestigationInput,
  limits: ContentLimits,
): Promise<TInvestigation> {
  const summary = cleanJsonObject(input.summary, 'summary', limits);
  return applyAction(em, actor, input.id, 'complete', (investigation, now) => {
    investigation.completedAt = now;
    if (input.confidence !== undefined) investigation.confidence = input.confidence;
    if (summary !== undefined) investigation.findings = summary;
    return { confidence: input.confidence ?? null };
  });
}

export async function failInvestigation(
  em: EntityManager,
  actor: Actor,
  input: TFailInvestigationInput,
  limits: ContentLimits,
): Promise<TInvestigation> {
  const error = cleanText(input.error, 'error', limits);
  return applyAction(em, actor, input.id, 'fail', (investigation, now) => {
    investigation.completedAt = now;
    investigation.error = error;
    return {};
  });
}

export async function cancelInvestigation(
  em: EntityManager,
  actor: Actor,
  input: TCancelInvestigationInput,
  limits: ContentLimits,
): Promise<TInvestigation> {
  const reason = cleanText(input.reason, 'reason', limits);
  return applyAction(em, actor, input.id, 'cancel', (investigation, now) => {
    investigation.completedAt = now;
    if (reason !== undefined) investigation.error = reason;
    return { reason: reason ?? null };
  });
}

function assertStillOpen(investigation: Investigation, what: string): void {
  if (!INVESTIGATION_OPEN_STATUSES.includes(investigation.status)) {
    throw new DomainError('CONFLICT', `cannot ${what} an investigation that is ${investigation.status}`, {
      status: investigation.status,
    });
  }
}

function toFindingDto(finding: InvestigationFinding, investigationId: string): TFinding {
  return {
    id: finding.id,
    investigationId,
    summary: finding.summary,
    details: finding.details,
    confidence: Number(finding.confidence),
    evidence: {
      messageIds: finding.evidenceMessageIds,
      entityIds: finding.evidenceEntityIds,
      urls: finding.evidenceUrls,
    },
    createdAt: finding.createdAt.toISOString(),
  };
}

/**
 * Appends a finding to an open or running investigation. Its evidence must be the caller's own
 * (messages, entities; merged entities are cited as their survivors), else NOT_FOUND. Appending
 * counts as a sign of life for the stuck-run reaper.
 */
export async function addFinding(
  em: EntityManager,
  actor: Actor,
  input: TAddFindingInput,
  limits: ContentLimits,
): Promise<TFinding> {
  const ownerId = ownerIdOf(actor.principal);
  const summary = cleanText(input.summary, 'summary', limits);
  const details = cleanJsonObject(input.details, 'details', limits);
  const evidence = input.evidence ?? {};
  return em.transactional(async (tx) => {
    const investigation = await findOwnedInvestigation(tx, ownerId, input.id, { forUpdate: true });
    assertStillOpen(investigation, 'add findings to');
    await assertOwnEvidence(tx, ownerId, { messageIds: evidence.messageIds });
    const entityIds = evidence.entityIds ?? [];
    const entities = entityIds.length === 0 ? new Map() : await resolveEntities(tx, ownerId, entityIds);
    const finding = tx.create(InvestigationFindingSchema, {
      investigation,
      summary,
      details: details ?? {},
      confidence: input.confidence,
      evidenceMessageIds: [...new Set(evidence.messageIds ?? [])],
      evidenceEntityIds: [...new Set(entityIds.map((id) => (entities.get(id) as { id: string }).id))],
      evidenceUrls: [...new Set(evidence.urls ?? [])],
    });
    if (investigation.status === 'running') investigation.lastProgressAt = new Date();
    recordAudit(tx, actor, {
      action: 'investigations.addFinding',
      subjectType: 'investigation',
      subjectId: investigation.id,
      details: { findingId: finding.id, confidence: input.confidence },
    });
    await tx.flush();
    return toFindingDto(finding, investigation.id);
  });
}

const ZFindingPosition = z.object({ at: z.string(), id: z.uuid() });

/** The investigation's findings, oldest first, by keyset on (created_at, id). */
export async function listFindings(
  em: EntityManager,
  principal: Principal,
  input: TListFindingsInput,
  limits: ContentLimits,
): Promise<TFindingPage> {
  const ownerId = ownerIdOf(principal);
  const size = pageSize(input.limit, limits);
  await findOwnedInvestigation(em, ownerId, input.id);
  const binding = JSON.stringify([ownerId, input.id]);
  const queryBuilder = em
    .createQueryBuilder(InvestigationFindingSchema, 'f')
    .select(['f.*', MICROS('f.created_at')])
    .where({ investigation: input.id })
    .orderBy({ createdAt: 'asc', id: 'asc' })
    .limit(size + 1);
  if (input.cursor !== undefined) {
    const after = decodeKeysetCursor(input.cursor, binding, ZFindingPosition);
    queryBuilder.andWhere('(f.created_at, f.id) > (?::timestamptz, ?::uuid)', [after.at, after.id]);
  }
  const rows = await queryBuilder.execute<({ cursor_key: string } & Record<string, unknown>)[]>('all', false);
  const page = rows.slice(0, size);
  const last = page.at(-1);
  return {
    items: page.map(({ cursor_key: _, ...row }) => toFindingDto(em.map(InvestigationFindingSchema, row), input.id)),
    nextCursor:
      rows.length > size && last !== undefined
        ? encodeKeysetCursor({ at: last.cursor_key, id: String(last.id) }, binding)
        : null,
  };
}

/**
 * Links the caller's sessions and entities to the caller's investigation (`link`), or removes
 * such links (`unlink`). Every id must be the caller's (else NOT_FOUND, and nothing changes);
 * linking what is linked, or unlinking what is not, changes nothing.
 */
export async function changeInvestigationLinks(
  em: EntityManager,
  actor: Actor,
  input: TLinkInvestigationInput,
  mode: 'link' | 'unlink',
): Promise<TInvestigationDetail> {
  const ownerId = ownerIdOf(actor.principal);
  const sessionIds = [...new Set(input.sessionIds ?? [])];
  const entityIds = [...new Set(input.entityIds ?? [])];
  await em.transactional(async (tx) => {
    const investigation = await findOwnedInvestigation(tx, ownerId, input.id, { forUpdate: true });
    for (const sessionId of sessionIds) await findOwnedSession(tx, { userId: ownerId }, sessionId);
    const entities = entityIds.length === 0 ? new Map() : await resolveEntities(tx, ownerId, entityIds);
    const nodeIds = [...new Set(entityIds.map((id) => (entities.get(id) as { id: string }).id))];
    if (mode === 'link') {
      const existingSessions = await tx.find(InvestigationSessionSchema, {
        investigation,
        session: { $in: sessionIds },
      });
      const existingNodes = await tx.find(InvestigationEntitySchema, { investigation, node: { $in: nodeIds } });
      const haveSessions = new Set(existingSessions.map((link) => link.session.id));
      const haveNodes = new Set(existingNodes.map((link) => link.node.id));
      for (const session of sessionIds.filter((id) => !haveSessions.has(id))) {
        tx.create(InvestigationSessionSchema, { investigation, session });
      }
      for (const node of nodeIds.filter((id) => !haveNodes.has(id))) {
        tx.create(InvestigationEntitySchema, { investigation, node });
      }
    } else {
      if (sessionIds.length > 0)
        await tx.nativeDelete(InvestigationSessionSchema, { investigation, session: { $in: sessionIds } });
      if (nodeIds.length > 0)
        await tx.nativeDelete(InvestigationEntitySchema, { investigation, node: { $in: nodeIds } });
    }
    recordAudit(tx, actor, {
      action: `investigations.${mode}`,
      subjectType: 'investigation',
      subjectId: investigation.id,
      details: { sessionIds, entityIds: nodeIds },
    });
  });
  return getInvestigation(em.fork(), actor.principal, input.id);
}
