import type { TRPCRouterRecord } from '@trpc/server';
import { award } from './award.ts';
import { adminRouter, badges, missions } from './catalog.ts';
import { completeConversation, conversations, startConversation } from './conversations.ts';
import { leaderboard, rank } from './leaderboard.ts';
import { profile, updateProfile } from './profile.ts';

export const academyRouter = {
  profile,
  updateProfile,
  award,
  missions,
  badges,
  startConversation,
  conversations,
  completeConversation,
  leaderboard,
  rank,
  admin: adminRouter,
} satisfies TRPCRouterRecord;
