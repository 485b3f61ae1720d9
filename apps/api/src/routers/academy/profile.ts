import { ZAcademyProfile, ZUpdateAcademyProfileInput } from '@threadstore/contract';
import { getAcademyProfile, updateAcademyProfile } from '@threadstore/domain';
import { actorOf } from '../../trpc/context.ts';
import { userProcedure } from '../../trpc/init.ts';

/** The caller's learner profile, created on first use. */
export const profile = userProcedure
  .output(ZAcademyProfile)
  .query(({ ctx }) => getAcademyProfile(ctx.em, actorOf(ctx)));

/** The learner's display name; XP, level and streaks are not inputs anywhere. */
export const updateProfile = userProcedure
  .input(ZUpdateAcademyProfileInput)
  .output(ZAcademyProfile)
  .mutation(({ ctx, input }) => updateAcademyProfile(ctx.em, actorOf(ctx), input));
