import * as z from 'zod';
import { ZCursor, ZId, ZJsonObject, ZPage, ZTimestamp } from './common.ts';
import { MAX_EVIDENCE_ITEMS } from './graph.ts';
import { ZKey } from './sessions.ts';

/**
 * An investigation's lifecycle, like a run's: open → running → completed | failed | cancelled.
 * An open one may also be cancelled or failed before it starts; the last three are final.
 */
export const INVESTIGATION_STATUSES = ['open', 'running', 'completed', 'failed', 'cancelled'] as const;
export const ZInvestigationStatus = z.enum(INVESTIGATION_STATUSES);
export type TInvestigationStatus = z.infer<typeof ZInvestigationStatus>;

/** How sure an agent is, from 0 (a guess) to 1 (certain); stored with three decimals. */
const ZConfidence = z.number().min(0).max(1);
const ZPhase = ZKey(128);

export const ZInvestigation = z.object({
  id: ZId,
  projectId: ZId.nullable(),
  /** The session the investigation was started from, if any. */
  sessionId: ZId.nullable(),
  title: z.string(),
  query: z.string(),
  status: ZInvestigationStatus,
  phase: z.string().nullable(),
  confidence: ZConfidence.nullable(),
  /** The overall result as structured data; the findings themselves are listed separately. */
  summary: ZJsonObject,
  error: z.string().nullable(),
  startedAt: ZTimestamp.nullable(),
  completedAt: ZTimestamp.nullable(),
  lastProgressAt: ZTimestamp.nullable(),
  createdAt: ZTimestamp,
  updatedAt: ZTimestamp,
});
export type TInvestigation = z.infer<typeof ZInvestigation>;

/** An investigation with the sessions and entities linked to it. */
export const ZInvestigationDetail = ZInvestigation.extend({
  sessionIds: z.array(ZId),
  entityIds: z.array(ZId),
});
export type TInvestigationDetail = z.infer<typeof ZInvestigationDetail>;

export const ZCreateInvestigationInput = z.strictObject({
  title: z.string().min(1).max(512),
  /** What to find out; long texts are bounded by the server's maxContentBytes. */
  query: z.string().min(1),
  projectId: ZId.optional(),
  sessionId: ZId.optional(),
});
export type TCreateInvestigationInput = z.infer<typeof ZCreateInvestigationInput>;

export const ZInvestigationIdInput = z.strictObject({ id: ZId });
export type TInvestigationIdInput = z.infer<typeof ZInvestigationIdInput>;

export const ZListInvestigationsInput = z.strictObject({
  status: z
    .union([ZInvestigationStatus, z.array(ZInvestigationStatus).min(1).max(INVESTIGATION_STATUSES.length)])
    .optional(),
  projectId: ZId.optional(),
  limit: z.number().int().positive().optional(),
  cursor: ZCursor.optional(),
});
export type TListInvestigationsInput = z.infer<typeof ZListInvestigationsInput>;
export const ZInvestigationPage = ZPage(ZInvestigation);
export type TInvestigationPage = z.infer<typeof ZInvestigationPage>;

/** Title, query and summary; the status moves only through start, progress, complete, fail, cancel. */
export const ZUpdateInvestigationInput = z.strictObject({
  id: ZId,
  title: z.string().min(1).max(512).optional(),
  query: z.string().min(1).optional(),
  summary: ZJsonObject.optional(),
});
export type TUpdateInvestigationInput = z.infer<typeof ZUpdateInvestigationInput>;

/** A sign of life from a running investigation: its phase and how sure it is so far. */
export const ZInvestigationProgressInput = z.strictObject({
  id: ZId,
  phase: ZPhase.optional(),
  confidence: ZConfidence.optional(),
});
export type TInvestigationProgressInput = z.infer<typeof ZInvestigationProgressInput>;

export const ZCompleteInvestigationInput = z.strictObject({
  id: ZId,
  confidence: ZConfidence.optional(),
  summary: ZJsonObject.optional(),
});
export type TCompleteInvestigationInput = z.infer<typeof ZCompleteInvestigationInput>;

export const ZFailInvestigationInput = z.strictObject({ id: ZId, error: z.string().min(1) });
export type TFailInvestigationInput = z.infer<typeof ZFailInvestigationInput>;

export const ZCancelInvestigationInput = z.strictObject({ id: ZId, reason: z.string().min(1).optional() });
export type TCancelInvestigationInput = z.infer<typeof ZCancelInvestigationInput>;

export const ZFinding = z.object({
  id: ZId,
  investigationId: ZId,
  summary: z.string(),
  details: ZJsonObject,
  confidence: ZConfidence,
  evidence: z.object({ messageIds: z.array(ZId), entityIds: z.array(ZId), urls: z.array(z.string()) }),
  createdAt: ZTimestamp,
});
export type TFinding = z.infer<typeof ZFinding>;

/** A finding appended to an open or running investigation; evidence must be the caller's own. */
export const ZAddFindingInput = z.strictObject({
  id: ZId,
  summary: z.string().min(1),
  details: ZJsonObject.optional(),
  confidence: ZConfidence,
  evidence: z
    .strictObject({
      messageIds: z.array(ZId).max(MAX_EVIDENCE_ITEMS).optional(),
      entityIds: z.array(ZId).max(MAX_EVIDENCE_ITEMS).optional(),
      urls: z.array(z.url().max(2048)).max(MAX_EVIDENCE_ITEMS).optional(),
    })
    .optional(),
});
export type TAddFindingInput = z.infer<typeof ZAddFindingInput>;

/** Findings oldest first, by keyset. */
export const ZListFindingsInput = z.strictObject({
  id: ZId,
  limit: z.number().int().positive().optional(),
  cursor: ZCursor.optional(),
});
export type TListFindingsInput = z.infer<typeof ZListFindingsInput>;
export const ZFindingPage = ZPage(ZFinding);
export type TFindingPage = z.infer<typeof ZFindingPage>;

/** Links (or unlinks) the caller's sessions and entities; linking twice links once. */
export const ZLinkInvestigationInput = z
  .strictObject({
    id: ZId,
    sessionIds: z.array(ZId).max(MAX_EVIDENCE_ITEMS).optional(),
    entityIds: z.array(ZId).max(MAX_EVIDENCE_ITEMS).optional(),
  })
  .refine((input) => (input.sessionIds?.length ?? 0) + (input.entityIds?.length ?? 0) > 0, {
    message: 'name at least one session or entity',
  });
export type TLinkInvestigationInput = z.infer<typeof ZLinkInvestigationInput>;
