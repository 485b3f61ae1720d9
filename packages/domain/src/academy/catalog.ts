import {
  ZBadgeCriteria,
  ZMissionCriteria,
  type ContentLimits,
  type TBadge,
  type TBadgeCriteria,
  type TCreateBadgeInput,
  type TCreateMissionInput,
  type TEarnedBadges,
  type TLearnerMissions,
  type TMission,
  type TMissionCriteria,
  type TUpdateBadgeInput,
  type TUpdateMissionInput,
} from '@threadstore/contract';
import {
  AcademyBadgeSchema,
  AcademyMissionSchema,
  AcademyUserBadgeSchema,
  AcademyUserMissionSchema,
  LockMode,
  UniqueConstraintViolationException,
  type AcademyBadge,
  type AcademyMission,
  type EntityManager,
} from '@threadstore/db';
import { recordAudit } from '../audit.ts';
import { DomainError, notFound } from '../errors.ts';
import type { Actor } from '../principal.ts';
import { cleanText } from '../sessions/content.ts';
import { learnerOf } from './profile.ts';

/*
 * The mission and badge catalog. Administrators create, update and retire entries; nothing is ever
 * deleted, because learners' progress, completions and badges point at them (and the ledger's
 * mission rewards name them). Retired entries stop counting (the rollup skips them) and stop being
 * offered, but every learner keeps what they earned and still sees it.
 */

// The criteria schemas, for the worker's xp-rollup, which reads what these procedures write.
export { ZBadgeCriteria, ZMissionCriteria, type TBadgeCriteria, type TMissionCriteria };

const iso = (date: Date | null | undefined) => date?.toISOString() ?? null;
const at = (value: string | null | undefined) =>
  value === undefined ? undefined : value === null ? null : new Date(value);

export function toMissionDto(mission: AcademyMission): TMission {
  const criteria = ZMissionCriteria.safeParse(mission.criteria);
  return {
    id: mission.id,
    code: mission.code,
    title: mission.title,
    description: mission.description ?? null,
    xpReward: mission.xpReward,
    criteria: criteria.success ? criteria.data : null,
    startsAt: iso(mission.startsAt),
    endsAt: iso(mission.endsAt),
    retiredAt: iso(mission.retiredAt),
    createdAt: mission.createdAt.toISOString(),
    updatedAt: mission.updatedAt.toISOString(),
  };
}

export function toBadgeDto(badge: AcademyBadge): TBadge {
  const criteria = ZBadgeCriteria.safeParse(badge.criteria);
  return {
    id: badge.id,
    code: badge.code,
    name: badge.name,
    description: badge.description ?? null,
    iconUrl: badge.iconUrl ?? null,
    criteria: criteria.success ? criteria.data : null,
    retiredAt: iso(badge.retiredAt),
    createdAt: badge.createdAt.toISOString(),
    updatedAt: badge.updatedAt.toISOString(),
  };
}

function checkWindow(startsAt: Date | null, endsAt: Date | null): void {
  if (startsAt !== null && endsAt !== null && endsAt <= startsAt) {
    throw new DomainError('BAD_REQUEST', 'endsAt must be after startsAt', { field: 'endsAt' });
  }
}

function codeTaken(error: unknown, what: string): never {
  if (error instanceof UniqueConstraintViolationException) {
    throw new DomainError('CONFLICT', `a ${what} with this code exists (retired ones keep their code)`, {
      field: 'code',
    });
  }
  throw error;
}

export async function createMission(
  em: EntityManager,
  actor: Actor,
  input: TCreateMissionInput,
  limits: ContentLimits,
): Promise<TMission> {
  const startsAt = at(input.startsAt) ?? null;
  const endsAt = at(input.endsAt) ?? null;
  checkWindow(startsAt, endsAt);
  try {
    return await em.transactional(async (tx) => {
      const mission = tx.create(AcademyMissionSchema, {
        code: input.code,
        title: cleanText(input.title, 'title', limits),
        description: cleanText(input.description ?? null, 'description', limits),
        xpReward: input.xpReward,
        criteria: { ...input.criteria },
        startsAt,
        endsAt,
      });
      recordAudit(tx, actor, {
        action: 'academy.admin.createMission',
        subjectType: 'academy_mission',
        subjectId: mission.id,
        details: { code: input.code, xpReward: input.xpReward, criteria: input.criteria },
      });
      await tx.flush();
      return toMissionDto(mission);
    });
  } catch (error) {
    return codeTaken(error, 'mission');
  }
}

/** Changes what is given; learners' earned progress, completions and rewards stay as they are. */
export async function updateMission(
  em: EntityManager,
  actor: Actor,
  input: TUpdateMissionInput,
  limits: ContentLimits,
): Promise<TMission> {
  return em.transactional(async (tx) => {
    const mission = await tx.findOne(
      AcademyMissionSchema,
      { id: input.id },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    );
    if (mission === null) throw notFound('mission');
    const changed: string[] = [];
    if (input.title !== undefined) mission.title = cleanText(input.title, 'title', limits);
    if (input.description !== undefined) mission.description = cleanText(input.description, 'description', limits);
    if (input.xpReward !== undefined) mission.xpReward = input.xpReward;
    if (input.criteria !== undefined) mission.criteria = { ...input.criteria };
    if (input.startsAt !== undefined) mission.startsAt = at(input.startsAt)!;
    if (input.endsAt !== undefined) mission.endsAt = at(input.endsAt)!;
    for (const key of ['title', 'description', 'xpReward', 'criteria', 'startsAt', 'endsAt'] as const) {
      if (input[key] !== undefined) changed.push(key);
    }
    checkWindow(mission.startsAt ?? null, mission.endsAt ?? null);
    recordAudit(tx, actor, {
      action: 'academy.admin.updateMission',
      subjectType: 'academy_mission',
      subjectId: mission.id,
      details: { changed },
    });
    await tx.flush();
    return toMissionDto(mission);
  });
}

/** Retiring twice is a no-op that keeps the first retirement's time. */
export async function retireMission(em: EntityManager, actor: Actor, id: string): Promise<TMission> {
  return em.transactional(async (tx) => {
    const mission = await tx.findOne(
      AcademyMissionSchema,
      { id },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    );
    if (mission === null) throw notFound('mission');
    if (!mission.retiredAt) {
      mission.retiredAt = new Date();
      recordAudit(tx, actor, { action: 'academy.admin.retireMission', subjectType: 'academy_mission', subjectId: id });
      await tx.flush();
    }
    return toMissionDto(mission);
  });
}

export async function createBadge(
  em: EntityManager,
  actor: Actor,
  input: TCreateBadgeInput,
  limits: ContentLimits,
): Promise<TBadge> {
  try {
    return await em.transactional(async (tx) => {
      const badge = tx.create(AcademyBadgeSchema, {
        code: input.code,
        name: cleanText(input.name, 'name', limits),
        description: cleanText(input.description ?? null, 'description', limits),
        iconUrl: input.iconUrl ?? null,
        criteria: { ...input.criteria },
      });
      recordAudit(tx, actor, {
        action: 'academy.admin.createBadge',
        subjectType: 'academy_badge',
        subjectId: badge.id,
        details: { code: input.code, criteria: input.criteria },
      });
      await tx.flush();
      return toBadgeDto(badge);
    });
  } catch (error) {
    return codeTaken(error, 'badge');
  }
}

/** A stricter threshold awards fewer badges from now on; none already awarded is taken back. */
export async function updateBadge(
  em: EntityManager,
  actor: Actor,
  input: TUpdateBadgeInput,
  limits: ContentLimits,
): Promise<TBadge> {
  return em.transactional(async (tx) => {
    const badge = await tx.findOne(
      AcademyBadgeSchema,
      { id: input.id },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    );
    if (badge === null) throw notFound('badge');
    if (input.name !== undefined) badge.name = cleanText(input.name, 'name', limits);
    if (input.description !== undefined) badge.description = cleanText(input.description, 'description', limits);
    if (input.iconUrl !== undefined) badge.iconUrl = input.iconUrl;
    if (input.criteria !== undefined) badge.criteria = { ...input.criteria };
    const changed = (['name', 'description', 'iconUrl', 'criteria'] as const).filter((key) => input[key] !== undefined);
    recordAudit(tx, actor, {
      action: 'academy.admin.updateBadge',
      subjectType: 'academy_badge',
      subjectId: badge.id,
      details: { changed },
    });
    await tx.flush();
    return toBadgeDto(badge);
  });
}

export async function retireBadge(em: EntityManager, actor: Actor, id: string): Promise<TBadge> {
  return em.transactional(async (tx) => {
    const badge = await tx.findOne(AcademyBadgeSchema, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
    if (badge === null) throw notFound('badge');
    if (!badge.retiredAt) {
      badge.retiredAt = new Date();
      recordAudit(tx, actor, { action: 'academy.admin.retireBadge', subjectType: 'academy_badge', subjectId: id });
      await tx.flush();
    }
    return toBadgeDto(badge);
  });
}

/** How many catalog entries a learner's listing returns at most (the catalog is small by nature). */
const CATALOG_LIMIT = 500;

/**
 * The missions on offer (not retired), and any retired one the learner has progress on, each with
 * the learner's progress; missions in code order.
 */
export async function listLearnerMissions(em: EntityManager, actor: Actor): Promise<TLearnerMissions> {
  const userId = learnerOf(actor);
  const progress = await em.find(
    AcademyUserMissionSchema,
    { user: userId },
    { populate: ['mission'], limit: CATALOG_LIMIT },
  );
  const byMission = new Map(progress.map((row) => [row.mission.id, row]));
  const offered = await em.find(
    AcademyMissionSchema,
    { retiredAt: null },
    { orderBy: { code: 'asc' }, limit: CATALOG_LIMIT },
  );
  const missions = new Map(offered.map((mission) => [mission.id, mission]));
  for (const row of progress) missions.set(row.mission.id, row.mission);
  const items = [...missions.values()]
    .sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0))
    .map((mission) => {
      const mine = byMission.get(mission.id);
      return {
        mission: toMissionDto(mission),
        progress: mine?.progress ?? 0,
        status: mine?.status ?? ('not_started' as const),
        completedAt: iso(mine?.completedAt),
      };
    });
  return { items };
}

/** The badges the learner earned, retired ones included, newest first. */
export async function listEarnedBadges(em: EntityManager, actor: Actor): Promise<TEarnedBadges> {
  const earned = await em.find(
    AcademyUserBadgeSchema,
    { user: learnerOf(actor) },
    { populate: ['badge'], orderBy: { awardedAt: 'desc', id: 'asc' }, limit: CATALOG_LIMIT },
  );
  return { items: earned.map((row) => ({ badge: toBadgeDto(row.badge), awardedAt: row.awardedAt.toISOString() })) };
}
