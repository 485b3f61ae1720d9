import * as z from 'zod';
import { ZCursor, ZId, ZPage, ZTimestamp } from './common.ts';
import { ZProjectChatSettings } from './project-settings.ts';

/**
 * A project's settings, version 1: where per-project behaviour lives (the conversation loop reads
 * its responder and system prompt from `chat`). A new shape gets a new version beside this one,
 * so stored settings always say which shape they have.
 */
export const ZProjectSettingsV1 = z.strictObject({
  version: z.literal(1),
  chat: ZProjectChatSettings.optional(),
});

/** Every version of the project settings, told apart by `version`. */
export const ZProjectSettings = z.discriminatedUnion('version', [ZProjectSettingsV1]);
export type TProjectSettings = z.infer<typeof ZProjectSettings>;

/** The settings of a project created without any. */
export const DEFAULT_PROJECT_SETTINGS: TProjectSettings = { version: 1 };

const ZProjectName = z
  .string()
  .trim()
  .min(1)
  .max(256)
  .refine((text) => text.isWellFormed() && !text.includes('\0'), 'must be well-formed text without NUL characters');
const ZDescription = z.string().max(20_000);

export const ZProject = z.object({
  id: ZId,
  name: z.string(),
  description: z.string().nullable(),
  settings: ZProjectSettings,
  /** Bumped by every change; pass it back as `expectedVersion` to update safely. */
  version: z.number().int().positive(),
  archivedAt: ZTimestamp.nullable(),
  deletedAt: ZTimestamp.nullable(),
  createdAt: ZTimestamp,
  updatedAt: ZTimestamp,
});
export type TProject = z.infer<typeof ZProject>;

export const ZCreateProjectInput = z.strictObject({
  /** Unique among the caller's projects that are not deleted. */
  name: ZProjectName,
  description: ZDescription.optional(),
  settings: ZProjectSettings.optional(),
});
export type TCreateProjectInput = z.infer<typeof ZCreateProjectInput>;

export const ZProjectIdInput = z.strictObject({ id: ZId });
export type TProjectIdInput = z.infer<typeof ZProjectIdInput>;

export const ZUpdateProjectInput = z
  .strictObject({
    id: ZId,
    /** When given, the update applies only if the project is still at this version (else CONFLICT). */
    expectedVersion: z.number().int().positive().optional(),
    name: ZProjectName.optional(),
    /** null clears it. */
    description: ZDescription.nullable().optional(),
    /** Replaces the whole settings document. */
    settings: ZProjectSettings.optional(),
  })
  .refine((input) => input.name !== undefined || input.description !== undefined || input.settings !== undefined, {
    message: 'nothing to update: give name, description or settings',
  });
export type TUpdateProjectInput = z.infer<typeof ZUpdateProjectInput>;

export const ZListProjectsInput = z
  .strictObject({
    /** false (the default) hides archived projects, true shows only them, 'all' both. */
    archived: z.union([z.boolean(), z.literal('all')]).default(false),
    limit: z.number().int().positive().optional(),
    cursor: ZCursor.optional(),
  })
  .prefault({});
export type TListProjectsInput = z.infer<typeof ZListProjectsInput>;

export const ZProjectPage = ZPage(ZProject);
export type TProjectPage = z.infer<typeof ZProjectPage>;
