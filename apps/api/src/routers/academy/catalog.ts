import {
  ZBadge,
  ZCreateBadgeInput,
  ZCreateMissionInput,
  ZEarnedBadges,
  ZLearnerMissions,
  ZMission,
  ZRetireInput,
  ZUpdateBadgeInput,
  ZUpdateMissionInput,
} from '@threadstore/contract';
import {
  createBadge,
  createMission,
  listEarnedBadges,
  listLearnerMissions,
  retireBadge,
  retireMission,
  updateBadge,
  updateMission,
} from '@threadstore/domain';
import { actorOf } from '../../trpc/context.ts';
import { adminProcedure, userProcedure } from '../../trpc/init.ts';

/** Missions on offer (and retired ones the caller has progress on), with the caller's progress. */
export const missions = userProcedure
  .output(ZLearnerMissions)
  .query(({ ctx }) => listLearnerMissions(ctx.em, actorOf(ctx)));

/** The badges the caller earned. */
export const badges = userProcedure.output(ZEarnedBadges).query(({ ctx }) => listEarnedBadges(ctx.em, actorOf(ctx)));

/** academy.admin.*: the catalog. Nothing is deleted: retire instead. */
export const adminRouter = {
  createMission: adminProcedure
    .input(ZCreateMissionInput)
    .output(ZMission)
    .mutation(({ ctx, input }) => createMission(ctx.em, actorOf(ctx), input, ctx.limits)),
  updateMission: adminProcedure
    .input(ZUpdateMissionInput)
    .output(ZMission)
    .mutation(({ ctx, input }) => updateMission(ctx.em, actorOf(ctx), input, ctx.limits)),
  retireMission: adminProcedure
    .input(ZRetireInput)
    .output(ZMission)
    .mutation(({ ctx, input }) => retireMission(ctx.em, actorOf(ctx), input.id)),
  createBadge: adminProcedure
    .input(ZCreateBadgeInput)
    .output(ZBadge)
    .mutation(({ ctx, input }) => createBadge(ctx.em, actorOf(ctx), input, ctx.limits)),
  updateBadge: adminProcedure
    .input(ZUpdateBadgeInput)
    .output(ZBadge)
    .mutation(({ ctx, input }) => updateBadge(ctx.em, actorOf(ctx), input, ctx.limits)),
  retireBadge: adminProcedure
    .input(ZRetireInput)
    .output(ZBadge)
    .mutation(({ ctx, input }) => retireBadge(ctx.em, actorOf(ctx), input.id)),
};
