import type { TRPCRouterRecord } from '@trpc/server';
import {
  ZCreateProjectInput,
  ZListProjectsInput,
  ZProject,
  ZProjectIdInput,
  ZProjectPage,
  ZUpdateProjectInput,
} from '@threadstore/contract';
import {
  createProject,
  deleteProject,
  getProject,
  listProjects,
  setProjectArchived,
  updateProject,
} from '@threadstore/domain';
import { actorOf } from '../../trpc/context.ts';
import { userProcedure } from '../../trpc/init.ts';

/** Projects belong to signed-in users (anonymous visitors get UNAUTHORIZED). */
export const projectsRouter = {
  create: userProcedure
    .input(ZCreateProjectInput)
    .output(ZProject)
    .mutation(({ ctx, input }) => createProject(ctx.em, actorOf(ctx), input)),
  get: userProcedure
    .input(ZProjectIdInput)
    .output(ZProject)
    .query(({ ctx, input }) => getProject(ctx.em, ctx.principal, input.id)),
  list: userProcedure
    .input(ZListProjectsInput)
    .output(ZProjectPage)
    .query(({ ctx, input }) => listProjects(ctx.em, ctx.principal, input, ctx.limits)),
  update: userProcedure
    .input(ZUpdateProjectInput)
    .output(ZProject)
    .mutation(({ ctx, input }) => updateProject(ctx.em, actorOf(ctx), input)),
  archive: userProcedure
    .input(ZProjectIdInput)
    .output(ZProject)
    .mutation(({ ctx, input }) => setProjectArchived(ctx.em, actorOf(ctx), input.id, true)),
  unarchive: userProcedure
    .input(ZProjectIdInput)
    .output(ZProject)
    .mutation(({ ctx, input }) => setProjectArchived(ctx.em, actorOf(ctx), input.id, false)),
  /** Soft: gone at once, purged by the retention worker after the soft-delete grace period. */
  delete: userProcedure
    .input(ZProjectIdInput)
    .output(ZProject)
    .mutation(({ ctx, input }) => deleteProject(ctx.em, actorOf(ctx), input.id)),
} satisfies TRPCRouterRecord;
