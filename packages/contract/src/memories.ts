import * as z from 'zod';
import { ZCursor, ZId, ZJsonObject, ZPage, ZTimestamp } from './common.ts';
import { ZSearchLanguage, ZSearchQuery } from './search.ts';
import { ZKey } from './sessions.ts';

/** short_term and episodic memories expire by the retention policies (1 and 30 days by default). */
export const ZMemoryKind = z.enum(['short_term', 'episodic', 'long_term']);
export type TMemoryKind = z.infer<typeof ZMemoryKind>;

const ZScore = z.number().min(0).max(1);
const ZContent = z
  .string()
  .trim()
  .min(1)
  .max(16_384)
  .refine((text) => text.isWellFormed() && !text.includes('\0'), 'must be well-formed text without NUL characters');

/** One version of a memory. `id` names the memory across its versions; `versionId` this version. */
export const ZMemory = z.object({
  id: ZId,
  versionId: ZId,
  version: z.number().int().positive(),
  kind: ZMemoryKind,
  subject: z.string(),
  key: z.string().nullable(),
  content: z.string(),
  importance: ZScore,
  confidence: ZScore,
  language: ZSearchLanguage,
  projectId: ZId.nullable(),
  agentId: z.string().nullable(),
  /** Where it was learnt; kept (dangling) after that session or message is purged. */
  sourceSessionId: ZId.nullable(),
  sourceMessageId: ZId.nullable(),
  metadata: ZJsonObject,
  expiresAt: ZTimestamp.nullable(),
  validFrom: ZTimestamp,
  /** null while this version is current; set when it was superseded or the memory deleted. */
  validTo: ZTimestamp.nullable(),
  /** The version that replaced this one (null when current, or when the memory was deleted). */
  supersededBy: ZId.nullable(),
  createdAt: ZTimestamp,
});
export type TMemory = z.infer<typeof ZMemory>;

export const ZCreateMemoryInput = z.strictObject({
  content: ZContent,
  kind: ZMemoryKind.default('long_term'),
  /** What it is about; duplicates are judged per subject, key and project. Default `user`. */
  subject: ZKey(255).default('user'),
  key: ZKey(255).optional(),
  importance: ZScore.optional(),
  confidence: ZScore.optional(),
  language: ZSearchLanguage.optional(),
  projectId: ZId.optional(),
  agentId: ZKey(255).optional(),
  /** One of the caller's sessions (and a message of it), for provenance. */
  sourceSessionId: ZId.optional(),
  sourceMessageId: ZId.optional(),
  metadata: ZJsonObject.optional(),
});
export type TCreateMemoryInput = z.infer<typeof ZCreateMemoryInput>;

export const ZCreateMemoryOutput = z.object({
  memory: ZMemory,
  /** false: a current memory with the same normalised content and subject existed, and is returned. */
  created: z.boolean(),
});
export type TCreateMemoryOutput = z.infer<typeof ZCreateMemoryOutput>;

export const ZGetMemoryInput = z.strictObject({
  id: ZId,
  /** The version valid at this instant, instead of the current one. */
  asOf: ZTimestamp.optional(),
});
export type TGetMemoryInput = z.infer<typeof ZGetMemoryInput>;

export const ZMemoryIdInput = z.strictObject({ id: ZId });
export type TMemoryIdInput = z.infer<typeof ZMemoryIdInput>;

export const ZUpdateMemoryInput = z
  .strictObject({
    id: ZId,
    /** When given, applies only if the current version is still this one (else CONFLICT). */
    expectedVersion: z.number().int().positive().optional(),
    content: ZContent.optional(),
    kind: ZMemoryKind.optional(),
    key: ZKey(255).nullable().optional(),
    importance: ZScore.optional(),
    confidence: ZScore.optional(),
    metadata: ZJsonObject.optional(),
  })
  .refine((input) => Object.keys(input).some((key) => key !== 'id' && key !== 'expectedVersion'), {
    message: 'nothing to update',
  });
export type TUpdateMemoryInput = z.infer<typeof ZUpdateMemoryInput>;

export const ZDeleteMemoryOutput = z.object({ id: ZId, deletedAt: ZTimestamp });
export type TDeleteMemoryOutput = z.infer<typeof ZDeleteMemoryOutput>;

export const ZListMemoriesInput = z
  .strictObject({
    kind: ZMemoryKind.optional(),
    projectId: ZId.optional(),
    agentId: ZKey(255).optional(),
    subject: ZKey(255).optional(),
    /** The memories as they were at this instant. */
    asOf: ZTimestamp.optional(),
    limit: z.number().int().positive().optional(),
    cursor: ZCursor.optional(),
  })
  .prefault({});
export type TListMemoriesInput = z.infer<typeof ZListMemoriesInput>;

export const ZMemoryPage = ZPage(ZMemory);
export type TMemoryPage = z.infer<typeof ZMemoryPage>;

export const ZMemoryHistory = z.object({ items: z.array(ZMemory) });
export type TMemoryHistory = z.infer<typeof ZMemoryHistory>;

export const ZSearchMemoriesInput = z.strictObject({
  query: ZSearchQuery,
  prefix: z.boolean().default(false),
  kind: ZMemoryKind.optional(),
  projectId: ZId.optional(),
  agentId: ZKey(255).optional(),
  limit: z.number().int().positive().optional(),
});
export type TSearchMemoriesInput = z.infer<typeof ZSearchMemoriesInput>;

export const ZMemoryHits = z.object({ items: z.array(z.object({ memory: ZMemory, rank: z.number() })) });
export type TMemoryHits = z.infer<typeof ZMemoryHits>;

export const ZMemoriesContextInput = z.strictObject({
  /** The text about to be sent (the user's turn); memories sharing its words rank higher. */
  query: z.string().max(10_000).default(''),
  /** The project's memories and the user's general ones; without it, general ones only. */
  projectId: ZId.optional(),
  /** This agent's memories and the ones of no agent; without it, the ones of no agent only. */
  agent: ZKey(255).optional(),
  limit: z.number().int().min(1).max(200).default(20),
  /** Approximate tokens (4 characters each) the memories may take together. */
  tokenBudget: z.number().int().min(1).max(1_000_000).optional(),
});
export type TMemoriesContextInput = z.input<typeof ZMemoriesContextInput>;

export const ZMemoriesContext = z.object({
  items: z.array(z.object({ memory: ZMemory, score: z.number() })),
  /** Approximate tokens of the items' content together. */
  tokens: z.number().int().nonnegative(),
});
export type TMemoriesContext = z.infer<typeof ZMemoriesContext>;
