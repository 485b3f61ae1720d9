import type { EntitySchema } from '@mikro-orm/core';
import { AccountErasureSchema } from './account.ts';
import { AuditLogSchema } from './audit.ts';
import {
  AcademyBadgeSchema,
  AcademyConversationSchema,
  AcademyMissionSchema,
  AcademyUserBadgeSchema,
  AcademyUserMissionSchema,
  AcademyUserSchema,
  AcademyWeeklyXpSchema,
  AcademyXpRollupStateSchema,
  AcademyXpTransactionSchema,
} from './academy.ts';
import {
  ChatMessageSchema,
  ChatMessageSearchQueueSchema,
  ChatMessageSearchSchema,
  ChatMessageVersionSchema,
  ChatSessionSchema,
  ChatTurnSchema,
  MessageClearSchema,
  MessageRatingSchema,
  SessionShareSchema,
} from './conversation.ts';
import { EntityNodeSchema, EntityRelationshipSchema } from './graph.ts';
import { ApiKeySchema, ProjectSchema, UserSchema } from './identity.ts';
import {
  InvestigationEntitySchema,
  InvestigationFindingSchema,
  InvestigationSchema,
  InvestigationSessionSchema,
} from './investigation.ts';
import { KnowledgeChunkSchema, KnowledgeEntrySchema } from './knowledge.ts';
import { MaintenanceRunSchema, RetentionPolicySchema, StatsSnapshotSchema } from './maintenance.ts';
import { MemorySchema } from './memory.ts';
import { RateLimitSchema } from './rate-limit.ts';

/** The registry: every entity the ORM knows. There is no folder discovery; add new ones here. */
// Typed as a plain list: the inferred tuple type is too large for declaration emit.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const entities: EntitySchema<any, any>[] = [
  UserSchema,
  ApiKeySchema,
  ProjectSchema,
  ChatSessionSchema,
  ChatMessageSchema,
  MemorySchema,
  KnowledgeEntrySchema,
  AcademyUserSchema,
  AcademyConversationSchema,
  AcademyXpTransactionSchema,
  AcademyXpRollupStateSchema,
  AcademyMissionSchema,
  AcademyUserMissionSchema,
  AcademyBadgeSchema,
  AcademyUserBadgeSchema,
  EntityNodeSchema,
  EntityRelationshipSchema,
  InvestigationSchema,
  AuditLogSchema,
  RetentionPolicySchema,
  MaintenanceRunSchema,
  StatsSnapshotSchema,
  InvestigationFindingSchema,
  InvestigationSessionSchema,
  InvestigationEntitySchema,
  AcademyWeeklyXpSchema,
  KnowledgeChunkSchema,
  AccountErasureSchema,
  RateLimitSchema,
  ChatMessageSearchSchema,
  ChatMessageSearchQueueSchema,
  ChatTurnSchema,
  SessionShareSchema,
  MessageRatingSchema,
  MessageClearSchema,
  ChatMessageVersionSchema,
];

export * from './academy.ts';
export * from './account.ts';
export * from './audit.ts';
export * from './conversation.ts';
export * from './graph.ts';
export * from './identity.ts';
export * from './investigation.ts';
export * from './knowledge.ts';
export * from './maintenance.ts';
export * from './memory.ts';
export { TEXT_SEARCH_LANGUAGES, type TextSearchLanguage, tsVectorByLanguage } from './columns.ts';
export * from './rate-limit.ts';
