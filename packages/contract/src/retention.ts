import * as z from 'zod';
import { ZId, ZTimestamp } from './common.ts';

export const ZRetentionScope = z.enum(['global', 'user', 'project']);
/** What retention deletes; `all` only with a legal hold, which exempts its user or project from every target. */
export const ZRetentionTarget = z.enum([
  'inactive_sessions',
  'soft_deleted',
  'short_term_memories',
  'episodic_memories',
  'anonymous_sessions',
  'all',
]);

export const ZRetentionPolicy = z.object({
  id: ZId,
  scope: ZRetentionScope,
  userId: ZId.nullable(),
  projectId: ZId.nullable(),
  target: ZRetentionTarget,
  keepForDays: z.number().int().nullable(),
  legalHold: z.boolean(),
  note: z.string().nullable(),
  createdAt: ZTimestamp,
  updatedAt: ZTimestamp,
});
export type TRetentionPolicy = z.infer<typeof ZRetentionPolicy>;

/** Whose policy: everyone's (`global`), one user's or one project's. */
const subject = {
  scope: ZRetentionScope,
  userId: ZId.optional(),
  projectId: ZId.optional(),
};

/**
 * A rule (keep `target` for `keepForDays`) or a legal hold (`legalHold: true`, target `all`).
 * Setting one where one exists for the same subject and target replaces it. To keep a target
 * forever for everyone, remove its global policy: a target no policy covers is never deleted.
 */
export const ZSetRetentionPolicyInput = z.strictObject({
  ...subject,
  target: ZRetentionTarget,
  keepForDays: z.number().int().min(1).max(36_500).optional(),
  legalHold: z.boolean().optional(),
  note: z.string().max(2_000).optional(),
});
export type TSetRetentionPolicyInput = z.infer<typeof ZSetRetentionPolicyInput>;

export const ZListRetentionPoliciesInput = z.strictObject({
  scope: ZRetentionScope.optional(),
  userId: ZId.optional(),
  projectId: ZId.optional(),
  legalHold: z.boolean().optional(),
});
export type TListRetentionPoliciesInput = z.infer<typeof ZListRetentionPoliciesInput>;
export const ZListRetentionPoliciesOutput = z.object({ items: z.array(ZRetentionPolicy) });

export const ZRemoveRetentionPolicyInput = z.strictObject({ id: ZId });
export const ZRemoveRetentionPolicyOutput = z.object({ removed: ZRetentionPolicy });

/** A change to try in a preview: set a policy, or remove the one of this subject and target. */
export const ZRetentionChange = z.strictObject({
  action: z.enum(['set', 'remove']),
  ...subject,
  target: ZRetentionTarget,
  keepForDays: z.number().int().min(1).max(36_500).optional(),
  legalHold: z.boolean().optional(),
});
export type TRetentionChange = z.infer<typeof ZRetentionChange>;

/**
 * Queues a retention dry run as if `changes` were made: the receipt (admin.listRuns, job
 * `retention`) counts what a real run would then delete, per target and policy. Nothing changes.
 */
export const ZPreviewRetentionInput = z.strictObject({ changes: z.array(ZRetentionChange).min(1).max(50) });
export type TPreviewRetentionInput = z.infer<typeof ZPreviewRetentionInput>;
export const ZPreviewRetentionOutput = z.object({ job: z.literal('retention'), queueJobId: z.string() });
