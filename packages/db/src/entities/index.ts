import type { EntitySchema } from '@mikro-orm/core';
import { AuditLogSchema } from './audit.ts';
import {
  AcademyBadgeSchema,
  AcademyConversationSchema,
  AcademyMissionSchema,
  AcademyUserBadgeSchema,
  AcademyUserMissionSchema,
  AcademyUserSchema,
  AcademyXpRollupStateSchema,
  AcademyXpTransactionSchema,
} from './academy.ts';
import { ChatMessageSchema, ChatSessionSchema, ChatTurnSchema } from './conversation.ts';
import { EntityNodeSchema, EntityRelationshipSchema } from './graph.ts';
import { ApiKeySchema, ProjectSchema, UserSchema } from './identity.ts';
import { InvestigationSchema } from './investigation.ts';
import { KnowledgeEntrySchema } from './knowledge.ts';
import { MaintenanceRunSchema, RetentionPolicySchema, StatsSnapshotSchema } from './maintenance.ts';
import { MemorySchema } from './memory.ts';

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
  ChatTurnSchema,
];

export * from './academy.ts';
export * from './audit.ts';
export * from './conversation.ts';
export * from './graph.ts';
export * from './identity.ts';
export * from './investigation.ts';
export * from './knowledge.ts';
export * from './maintenance.ts';
export * from './memory.ts';
